// Package reliability holds the tests that prove leadscore keeps serving through reload storms, storage faults, shutdowns, overload, restarts and hostile input; `make soak` runs them long.
package reliability
