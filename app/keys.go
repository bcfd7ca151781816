package app

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// NewKey makes a secret (an API key, a sign-in token, a session id): 32 random
// bytes, with a prefix naming what it is for.
func NewKey(prefix string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error()) // the system has no randomness left; nothing safe can go on
	}
	return prefix + "_" + base64.RawURLEncoding.EncodeToString(b)
}

// HashKey is the stored form of a secret. Keys are random and long, so a plain
// SHA-256 suffices: there is nothing to guess that a slow hash would protect.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}
