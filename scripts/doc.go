// Package scripts holds no Go code: its tests exercise the shell scripts
// beside them (scripts/test.sh's check for another healer on the engine)
// against a private process table and a fake docker client, so that the
// scripts' logic is run by go test like the rest.
package scripts
