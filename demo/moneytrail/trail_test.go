package moneytrail

import (
	"testing"
)

func TestAuditChecksReportFailures(t *testing.T) {
	var tr Trail
	tr.check("a", true, "fine")
	tr.check("b", false, "off by %d", 1)
	if tr.OK() || len(tr.Failed()) != 1 || tr.Failed()[0].Detail != "off by 1" {
		t.Fatalf("trail checks: %+v", tr.Checks)
	}
}
