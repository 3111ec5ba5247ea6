package workers

import (
	"unicode"
	"unicode/utf8"
)

// Per-message and reply-priming overhead of a chat prompt, in tokens.
const (
	chatTokensPerMessage = 3
	chatTokensReply      = 3
)

// EstimateTokens approximates the token count of text (see the package
// documentation for the exact rule).
func EstimateTokens(text string) int {
	n := 0
	i := 0
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == ' ' && i+size < len(text) && isLetterAt(text, i+size):
			// A single leading space joins the following word.
			j := scanLetters(text, i+size)
			n += ceilDiv(j-i-size, 6)
			i = j
		case isLetter(r):
			j := scanLetters(text, i)
			n += ceilDiv(j-i, 6)
			i = j
		case r >= '0' && r <= '9':
			j := i
			for j < len(text) && text[j] >= '0' && text[j] <= '9' {
				j++
			}
			n += ceilDiv(j-i, 3)
			i = j
		case unicode.IsSpace(r):
			j := i
			newline := false
			for j < len(text) {
				r2, s2 := utf8.DecodeRuneInString(text[j:])
				if !unicode.IsSpace(r2) {
					break
				}
				if r2 == '\n' {
					newline = true
				}
				j += s2
			}
			if newline {
				n++
			}
			i = j
		default:
			n += min(size, 2)
			i += size
		}
	}
	return n
}

// EstimateChatPrompt approximates the prompt tokens of chat messages given
// as their text contents.
func EstimateChatPrompt(contents []string) int {
	n := chatTokensReply
	for _, c := range contents {
		n += chatTokensPerMessage + EstimateTokens(c)
	}
	return n
}

func isLetter(r rune) bool {
	return r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '\'' || r == '_')
}

func isLetterAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return isLetter(r)
}

func scanLetters(s string, i int) int {
	for i < len(s) && s[i] < utf8.RuneSelf && isLetter(rune(s[i])) {
		i++
	}
	return i
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
