package config

// Size is a number of bytes. In YAML it is an integer or a string with a
// unit: 512KiB, 10MiB, 1MB, 1GiB.
type Size int64

// Ptr returns a pointer to v. It helps to set the optional fields of a
// Config built in code, such as Validate.CacheTTL.
func Ptr[T any](v T) *T { return &v }
