// Package readme holds the tests that keep README.md and docs/ true: the
// README's walkthrough is run verbatim against a fresh local chain, and
// every relative link in the documentation must lead somewhere.
package readme
