package blog

import (
	"strings"
	"testing"
)

func TestPasskeyName(t *testing.T) {
	tests := []struct {
		name, in, want, problem string
	}{
		{"kept", "My phone", "My phone", ""},
		{"trimmed", "  Laptop \t", "Laptop", ""},
		{"NFC", "Cafe\u0301", "Café", ""},
		{"64 characters", strings.Repeat("é", 64), strings.Repeat("é", 64), ""},
		{"65 characters", strings.Repeat("é", 65), strings.Repeat("é", 65), "string_too_long"},
		{"blank", "   ", "", "string_too_short"},
		{"a control character", "a\u0007b", "a\u0007b", "string_pattern_mismatch"},
		{"a line break inside", "a\nb", "a\nb", "string_pattern_mismatch"},
		{"NUL", "a\x00", "a\x00", "string_type"},
		{"invalid UTF-8", "a\xff", "a\xff", "string_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v Validator
			got := v.PasskeyName("name", tt.in)
			var problem string
			if len(v.Problems) > 0 {
				problem = v.Problems[0].Type
			}
			if got != tt.want || problem != tt.problem || len(v.Problems) > 1 {
				t.Errorf("PasskeyName(%q) = %q with problems %v, want %q with %q", tt.in, got, v.Problems, tt.want, tt.problem)
			}
		})
	}
}
