// Package pda derives the programs' addresses. Seed names mirror the
// programs' state/seeds.rs constants one to one.
package pda
