// Package health holds the account-health rules that every other package shares:
// the metric definitions and how a value is judged against its target, the policy
// (with its defaults and its parser), the event vocabulary, the case states and the
// Account Health Rating. It does no I/O, so every rule here is tested as a table.
package health
