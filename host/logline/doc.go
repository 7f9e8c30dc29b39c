// Package logline keeps every hemostatd log entry on one line of plain
// text, whatever the values in it came from.
//
// Container names, reasons and errors reach the log from Redis (anyone who
// can write to it) and from the Docker engine (anyone who can name a
// container). A value holding "\n2026-01-01T00:00:00.000Z [ERROR] …" would
// forge a log entry, and ESC or BEL bytes would drive the reader's
// terminal. hclog quotes some field values but writes messages, and
// multi-line values, as they are; so the check sits where every entry
// passes, the writer: control bytes are escaped as Go escapes them in a
// quoted string, and an entry is capped in length.
package logline
