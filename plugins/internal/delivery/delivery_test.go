package delivery

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

func TestClassify(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		code      int
		header    string
		permanent bool
		after     time.Duration
		ok        bool
	}{
		{200, "", false, 0, true},
		{204, "", false, 0, true},
		{429, "7", false, 7 * time.Second, false},
		{429, now.Add(90 * time.Second).Format(http.TimeFormat), false, 90 * time.Second, false},
		{429, "", false, DefaultRetryAfter, false},
		{500, "", false, 0, false},
		{503, "", false, 0, false},
		{408, "", false, 0, false},
		{404, "", true, 0, false},
		{403, "", true, 0, false},
		{400, "", true, 0, false},
	} {
		resp := &http.Response{StatusCode: tc.code, Status: http.StatusText(tc.code), Header: http.Header{}}
		if tc.header != "" {
			resp.Header.Set("Retry-After", tc.header)
		}
		err := Classify("webhook", resp, "", now)
		if (err == nil) != tc.ok {
			t.Errorf("%d: err %v", tc.code, err)
			continue
		}
		if sdk.IsPermanent(err) != tc.permanent {
			t.Errorf("%d: permanent = %v", tc.code, !tc.permanent)
		}
		if d, _ := sdk.RetryAfterOf(err); d != tc.after {
			t.Errorf("%d: retry after %s, want %s", tc.code, d, tc.after)
		}
	}
}

func TestTransportHidesTheURL(t *testing.T) {
	_, err := http.Get("http://127.0.0.1:1/services/T000/B000/SECRET")
	err = Transport("webhook", err)
	if err == nil || strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "127.0.0.1:1/services") {
		t.Errorf("error %v shows the URL", err)
	}
	cause := errors.New("connection refused")
	if !errors.Is(Transport("x", cause), cause) {
		t.Error("the cause is not kept")
	}
}

func TestCheckURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://hooks.slack.com/services/T/B/X": "",
		"http://127.0.0.1:8080/hook":             "",
		"hooks.slack.com/services/T/B/X":         "must be an http:// or https:// URL",
		"https://":                               "has no host",
		"ftp://x/y":                              "must be an http:// or https:// URL",
		"https://x/%zz":                          "is not a valid URL",
	} {
		if got := CheckURL(raw); got != want {
			t.Errorf("CheckURL(%q) = %q, want %q", raw, got, want)
		}
	}
}
