package config

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
)

// decodeValue decodes an attribute's expression into a T with gohcl. set
// is false when the attribute is absent or null, and when it is invalid,
// in which case diags say why. Expressions may not use variables or
// functions.
func decodeValue[T any](expr hcl.Expression) (val T, set bool, diags hcl.Diagnostics) {
	v, diags := expr.Value(nil)
	if diags.HasErrors() || v.IsNull() {
		return val, false, diags
	}
	diags = gohcl.DecodeExpression(expr, nil, &val)
	return val, !diags.HasErrors(), diags
}

// written reports whether an optional attribute appears in its block
// with a non-null value.
func written(expr hcl.Expression) bool {
	v, diags := expr.Value(nil)
	return diags.HasErrors() || !v.IsNull()
}

// decodeFlag decodes the optional bool attribute of expr. It returns def
// when the attribute is absent or invalid.
func decodeFlag(expr hcl.Expression, def bool) (bool, hcl.Diagnostics) {
	v, set, diags := decodeValue[bool](expr)
	if !set {
		return def, diags
	}
	return v, diags
}

// decodeCount decodes the optional integer attribute name, which must be
// at least min. It returns def when the attribute is absent and 0 when it
// is invalid.
func decodeCount(name string, expr hcl.Expression, def, min int) (int, hcl.Diagnostics) {
	n, set, diags := decodeValue[int](expr)
	switch {
	case diags.HasErrors():
		return 0, diags
	case !set:
		return def, diags
	case n < min:
		return 0, append(diags, errorf(expr.Range(), "Value out of range",
			"%s must be at least %d; it is %d. Remove it to use the default, %d.",
			name, min, n, def))
	}
	return n, diags
}

// decodeIntIn decodes the optional integer attribute name, which must be
// in min..max. It returns def when the attribute is absent and 0 when it
// is invalid; since 0 may also be valid, callers that care must check
// diags.
func decodeIntIn(name string, expr hcl.Expression, def, min, max int) (int, hcl.Diagnostics) {
	n, set, diags := decodeValue[int](expr)
	switch {
	case diags.HasErrors():
		return 0, diags
	case !set:
		return def, diags
	case n < min || n > max:
		return 0, append(diags, errorf(expr.Range(), "Value out of range",
			"%s must be in %d..%d; it is %d. Remove it to use the default, %d.",
			name, min, max, n, def))
	}
	return n, diags
}

// decodePort decodes the optional TCP port attribute name, which must be
// in 1..65535; advice, when not empty, ends the out-of-range detail with a
// space before it. It returns 0 when the attribute is absent or invalid.
func decodePort(name string, expr hcl.Expression, advice string) (int, hcl.Diagnostics) {
	port, set, diags := decodeValue[int](expr)
	switch {
	case !set:
		return 0, diags
	case port < 1 || port > 65535:
		return 0, append(diags, errorf(expr.Range(), "Value out of range",
			"%s must be in 1..65535; it is %d.%s", name, port, advice))
	}
	return port, diags
}

// requireCount decodes the required integer attribute name of the block
// declared at decl, described by what, which must be at least min;
// example is a sample value for the detail. It returns 0 when the
// attribute is absent or invalid.
func requireCount(what, name, example string, expr hcl.Expression, decl hcl.Range, min int) (int, hcl.Diagnostics) {
	n, set, diags := decodeValue[int](expr)
	switch {
	case diags.HasErrors():
		return 0, diags
	case !set:
		return 0, append(diags, missingAttr(decl, what, name, example))
	case n < min:
		return 0, append(diags, errorf(expr.Range(), "Value out of range",
			"%s must be at least %d; it is %d. Write the value, such as %s = %s.",
			name, min, n, name, example))
	}
	return n, diags
}

// decodeText decodes the optional string attribute name. A written value
// must not be empty, since an empty string is almost always a slip. It
// returns def when the attribute is absent and "" when it is invalid.
func decodeText(name string, expr hcl.Expression, def string) (string, hcl.Diagnostics) {
	s, set, diags := decodeValue[string](expr)
	switch {
	case diags.HasErrors():
		return "", diags
	case !set:
		return def, diags
	case s == "":
		return "", append(diags, errorf(expr.Range(), "Empty value",
			"%s must not be empty: give it a value, or remove the line to use the default.", name))
	}
	return s, diags
}

// requireText decodes the required string attribute name of the block
// declared at decl, described by what ("listener \"public\"");
// example is a sample value for the detail. It returns "" when the
// attribute is absent or invalid.
func requireText(what, name, example string, expr hcl.Expression, decl hcl.Range) (string, hcl.Diagnostics) {
	s, set, diags := decodeValue[string](expr)
	switch {
	case diags.HasErrors():
		return "", diags
	case !set:
		return "", append(diags, missingAttr(decl, what, name, example))
	case s == "":
		return "", append(diags, errorf(expr.Range(), "Empty value",
			"The %s needs a value for %s, such as %s = %s.", what, name, name, example))
	}
	return s, diags
}

// elemRanges returns where element i of the list attribute expr, decoded
// to n elements, is written. A list written as [...] gives one expression
// per element; anything else (there is nothing else without variables or
// functions, but be safe) points at the whole value.
func elemRanges(expr hcl.Expression, n int) func(i int) hcl.Range {
	elems, diags := hcl.ExprList(expr)
	if diags.HasErrors() || len(elems) != n {
		return func(int) hcl.Range { return expr.Range() }
	}
	return func(i int) hcl.Range { return elems[i].Range() }
}
