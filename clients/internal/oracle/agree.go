package oracle

import (
	"reflect"
	"testing"
)

// Agree fails t unless a Go rule's result (got, err) is the program's
// answer r to the same query: the same error, named by errName, or the
// same value. want points at a value of got's type that r's result
// decodes into, or is nil for a rule that only accepts or refuses.
func Agree(t testing.TB, rule string, in any, r Reply, got any, err error, want any, errName func(error) string) {
	t.Helper()
	switch {
	case r.Err != "" && err == nil:
		t.Fatalf("%s %v: program fails with %s, Go returns %+v", rule, in, r.Err, got)
	case r.Err == "" && err != nil:
		t.Fatalf("%s %v: program returns %s, Go fails with %v", rule, in, r.OK, err)
	case r.Err != "":
		if errName(err) != r.Err {
			t.Fatalf("%s %v: program fails with %s, Go with %v", rule, in, r.Err, err)
		}
		return
	}
	if want == nil { // a check with no result: agreeing to succeed is all
		return
	}
	r.Decode(t, want)
	if w := reflect.ValueOf(want).Elem().Interface(); !reflect.DeepEqual(w, got) {
		t.Fatalf("%s %v:\n program %+v\n Go      %+v", rule, in, w, got)
	}
}
