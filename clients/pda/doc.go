// Package pda derives the programs' addresses. The seed prefixes are the
// programs' own state/seeds.rs constants, generated from the IDLs into
// clients/mt_treasury and clients/inference_meter; none is typed here.
package pda
