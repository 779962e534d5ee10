package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/energylabel/energylabel/rating"
)

// checkModel refuses a model id the server would refuse, as a usage
// error before any call: "whisper-large-v3" lacks its owner.
func checkModel(cmd, what, model string) error {
	err := rating.ValidateModel(model)
	if err == nil {
		return nil
	}
	desc := err.Error()
	var inv *rating.InvalidError
	if errors.As(err, &inv) && len(inv.Violations) == 1 {
		desc = inv.Violations[0].Description
	}
	hint := ""
	if !strings.Contains(model, "/") {
		hint = ": a model id names its owner too, e.g. openai/whisper-large-v3"
	}
	return briefUsageErrorf(cmd, "%s: %s %s%s", cmd, what, desc, hint)
}

// sizeClassFlag is -size-class, with -class as its deprecated alias: a
// size class is A, B or C by parameters, never a grade.
type sizeClassFlag struct {
	value string
	// alias says -class was used.
	alias bool
}

// register adds -size-class and -class to fs; a use of -class warns on
// stderr, once.
func (f *sizeClassFlag) register(fs *flag.FlagSet, stderr io.Writer) {
	fs.Func("size-class", "size class `A|B|C` by parameters", func(s string) error { f.value = s; return nil })
	fs.Func("class", "deprecated: -size-class", func(s string) error {
		if !f.alias {
			fmt.Fprintln(stderr, "energylabel: warning: -class is deprecated; use -size-class (the size class A, B or C by parameters, not the grade)")
		}
		f.value, f.alias = s, true
		return nil
	})
}

// sizeClassesHelp says what a size class is, for usage texts.
const sizeClassesHelp = "A ≤ 20 B parameters, B ≤ 66 B, C > 66 B"

// checkSizeClass refuses what is not a size class as a usage error,
// before any call: a lower-case letter, or a grade.
func checkSizeClass(cmd, class string) error {
	switch class {
	case "", "A", "B", "C":
		return nil
	}
	if up := strings.ToUpper(strings.TrimSpace(class)); up == "A" || up == "B" || up == "C" {
		return briefUsageErrorf(cmd, "%s: -size-class %s: size classes are upper case; did you mean -size-class %s?", cmd, quoteShort(class), up)
	}
	return briefUsageErrorf(cmd, "%s: -size-class %s: want A, B or C, the size class by parameters (%s); grades A-G are not a size class",
		cmd, quoteShort(class), sizeClassesHelp)
}

// checkTaskSizeClass refuses a size class for a task that has none,
// naming the tasks that do, from the built-in task list the server
// shares.
func checkTaskSizeClass(cmd, taskID, class string) error {
	if class == "" || taskID == "" {
		return nil
	}
	t, ok := rating.LookupTask(taskID)
	if !ok || t.SizeClasses {
		return nil
	}
	return briefUsageErrorf(cmd, "%s: -size-class %s: %s has no size classes; size classes apply to %s only",
		cmd, class, t.ID, proseList(sizeClassTasks(), "and"))
}

// sizeClassTasks are the ids of the tasks graded within size classes.
func sizeClassTasks() []string {
	var ids []string
	for _, t := range rating.Tasks() {
		if t.SizeClasses {
			ids = append(ids, t.ID)
		}
	}
	return ids
}

// proseList joins words as prose: "a", "a and b", "a, b and c".
func proseList(words []string, conj string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + conj + " " + words[len(words)-1]
}
