package config

import (
	"os"
	"strings"
	"testing"
)

// unsetEnv unsets a variable for the test and restores it afterwards.
func unsetEnv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "") // registers the restore
	if err := os.Unsetenv(name); err != nil {
		t.Fatal(err)
	}
}

func TestEnv(t *testing.T) {
	t.Setenv("HEMOSTAT_CONFIG_TEST_SET", "s3cret")
	t.Setenv("HEMOSTAT_CONFIG_TEST_EMPTY", "")
	unsetEnv(t, "HEMOSTAT_CONFIG_TEST_UNSET")

	tests := []struct {
		name    string
		expr    string
		want    string
		wantErr string // a substring of the error; "" means no error
	}{
		{"set", `env("HEMOSTAT_CONFIG_TEST_SET")`, "s3cret", ""},
		{"set beats default", `env("HEMOSTAT_CONFIG_TEST_SET", "d")`, "s3cret", ""},
		{"set but empty", `env("HEMOSTAT_CONFIG_TEST_EMPTY")`, "", ""},
		{"set but empty beats default", `env("HEMOSTAT_CONFIG_TEST_EMPTY", "d")`, "", ""},
		{"unset with default", `env("HEMOSTAT_CONFIG_TEST_UNSET", "d")`, "d", ""},
		{"unset with empty default", `env("HEMOSTAT_CONFIG_TEST_UNSET", "")`, "", ""},
		{"in a template", `"pre-${env("HEMOSTAT_CONFIG_TEST_SET")}"`, "pre-s3cret", ""},
		{"unset", `env("HEMOSTAT_CONFIG_TEST_UNSET")`, "", "test.hcl:1:16: Error in function call; Call to function \"env\" failed: environment variable HEMOSTAT_CONFIG_TEST_UNSET is not set"},
		{"empty name", `env("")`, "", "the variable name must not be empty"},
		{"no arguments", `env()`, "", "Not enough function arguments"},
		{"too many arguments", `env("A", "b", "c")`, "", "at most one default"},
		{"not a string", `env(["A"])`, "", "Invalid function argument"},
		{"null default", `env("HEMOSTAT_CONFIG_TEST_UNSET", null)`, "", "Invalid function argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte("http { token = "+tt.expr+" }"), "test.hcl")
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("no error, want one containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q does not contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.HTTP.Token != tt.want {
				t.Errorf("token = %q, want %q", c.HTTP.Token, tt.want)
			}
		})
	}
}
