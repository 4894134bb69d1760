package residualmix

import (
	"fmt"
	"strings"
)

// RowError is one CSV row that does not validate.
type RowError struct {
	Line int
	Msg  string
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// ValidationError is returned by Import when the file does not validate; nothing was
// written. Problems holds the first few reasons, Count how many there were in all.
type ValidationError struct {
	Problems []string
	Count    int
}

func (e *ValidationError) Error() string {
	more := ""
	if e.Count > len(e.Problems) {
		more = fmt.Sprintf(" (and %d more)", e.Count-len(e.Problems))
	}
	return fmt.Sprintf("mix file does not validate, nothing imported: %d problem(s): %s%s", e.Count, strings.Join(e.Problems, "; "), more)
}

// maxProblems is how many problems a ValidationError keeps.
const maxProblems = 20

func (e *ValidationError) add(msg string) {
	e.Count++
	if len(e.Problems) < maxProblems {
		e.Problems = append(e.Problems, msg)
	}
}
