package model

// The FlatBuffers code in internal/fb is generated from schema/bsnn.fbs by
// Debian's flatc 2.0.8 (package flatbuffers-compiler) and committed;
// scripts/check-flatc.sh (make check-generated) fails when it is stale.

//go:generate ../scripts/check-flatc.sh -w
