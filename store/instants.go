package store

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"time"

	"gorm.io/gorm/schema"
)

// Every instant is stored as Unix milliseconds (BIGINT) on both databases: the
// metrics' SQL compares them as numbers, and each dialect reads them back alike.
// Model fields stay time.Time or *time.Time with the tag
// `gorm:"serializer:unixms"`; raw SQL, GORM conditions and map updates bypass
// the serializer and pass ms(t). CreatedAt and UpdatedAt fields also turn off
// GORM's own timestamps (autoCreateTime:false, autoUpdateTime:false): an upsert
// would write those as time.Time, past the serializer.
func init() { schema.RegisterSerializer("unixms", unixMillis{}) }

// unixMillis converts a time.Time or *time.Time field to and from Unix
// milliseconds; a nil *time.Time is NULL.
type unixMillis struct{}

func (unixMillis) Scan(ctx context.Context, field *schema.Field, dst reflect.Value, dbValue any) error {
	var v sql.NullInt64
	if err := v.Scan(dbValue); err != nil {
		return fmt.Errorf("column %s: %w", field.DBName, err)
	}
	fv := field.ReflectValueOf(ctx, dst)
	switch {
	case !v.Valid:
		fv.Set(reflect.Zero(field.FieldType))
	case field.FieldType.Kind() == reflect.Pointer:
		t := fromMS(v.Int64)
		fv.Set(reflect.ValueOf(&t))
	default:
		fv.Set(reflect.ValueOf(fromMS(v.Int64)))
	}
	return nil
}

func (unixMillis) Value(_ context.Context, field *schema.Field, _ reflect.Value, fieldValue any) (any, error) {
	switch t := fieldValue.(type) {
	case time.Time:
		return ms(t), nil
	case *time.Time:
		if t == nil {
			return nil, nil
		}
		return ms(*t), nil
	}
	return nil, fmt.Errorf("column %s: unixms stores time.Time, not %T", field.DBName, fieldValue)
}
