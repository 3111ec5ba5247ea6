package story

import (
	"fmt"
	"io"
	"strings"
	"time"

	amountfmt "github.com/modelcommons/modelcommons/clients/amount"
)

// narrator prints the demo's progress for people.
type narrator struct {
	w     io.Writer
	start time.Time
	step  int
	steps int
	color bool
}

func (n *narrator) section(title string) {
	n.step++
	el := time.Since(n.start).Round(100 * time.Millisecond)
	if n.color {
		fmt.Fprintf(n.w, "\n\033[1;36m[%2d/%d] %s\033[0m  \033[2m(+%s)\033[0m\n", n.step, n.steps, title, el)
		return
	}
	fmt.Fprintf(n.w, "\n[%2d/%d] %s  (+%s)\n", n.step, n.steps, title, el)
}

func (n *narrator) say(format string, args ...any) {
	fmt.Fprintf(n.w, "        "+format+"\n", args...)
}

// command shows a command line a user would type.
func (n *narrator) command(name string, args []string) {
	line := name + " " + strings.Join(args, " ")
	if n.color {
		fmt.Fprintf(n.w, "        \033[2m$ %s\033[0m\n", line)
		return
	}
	fmt.Fprintf(n.w, "        $ %s\n", line)
}

func (n *narrator) ok(format string, args ...any) {
	mark := "✓"
	if n.color {
		mark = "\033[32m✓\033[0m"
	}
	fmt.Fprintf(n.w, "        %s "+format+"\n", append([]any{mark}, args...)...)
}

func (n *narrator) bad(format string, args ...any) {
	mark := "✗"
	if n.color {
		mark = "\033[31m✗\033[0m"
	}
	fmt.Fprintf(n.w, "        %s "+format+"\n", append([]any{mark}, args...)...)
}

// native renders base units of the 6-decimal native token.
func native(base uint64) string {
	s := fmt.Sprintf("%d.%06d", base/1_000_000, base%1_000_000)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// nativeLabeled is base units of the demo's native token (6 decimals) as
// a person reads them, with the unit: "0.00208 native".
func nativeLabeled(base uint64) string { return amountfmt.WithUnit(base, 6, "native") }
