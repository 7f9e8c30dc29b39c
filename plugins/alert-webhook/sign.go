package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Headers every request carries.
const (
	// HeaderTimestamp is the Unix time of the request, in seconds.
	HeaderTimestamp = "X-Hemostat-Timestamp"
	// HeaderSignature is "v1=" and the hex HMAC-SHA256, keyed with the
	// secret, of the timestamp, a '.', and the raw body.
	HeaderSignature = "X-Hemostat-Signature"
	// HeaderDelivery identifies a notification: a retry of the same one
	// carries the same id, so a receiver can drop duplicates.
	HeaderDelivery = "X-Hemostat-Delivery"
	// HeaderKind is the notification's kind (remediation_success, storm, …).
	HeaderKind = "X-Hemostat-Kind"
)

// Sign returns the HeaderSignature value for body sent at ts.
func Sign(secret []byte, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify is what a receiver does: it checks the signature in constant time
// and refuses a timestamp further than tolerance from now (a replay).
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("webhook: bad timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return errors.New("webhook: timestamp outside the tolerance")
	}
	want := Sign(secret, ts, body)
	for _, sig := range strings.Split(signature, ",") {
		if hmac.Equal([]byte(strings.TrimSpace(sig)), []byte(want)) {
			return nil
		}
	}
	return errors.New("webhook: signature mismatch")
}
