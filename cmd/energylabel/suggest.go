package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/energylabel/energylabel/rating"
)

// closest returns up to n known names nearest to name, best first: those
// within a few edits of it (and no more than one edit worse than the
// best), or else those it is a part of ("image" for the image tasks).
func closest(name string, known []string, n int) []string {
	type candidate struct {
		name string
		dist int
	}
	in := strings.ToLower(name)
	limit := max(2, len(in)/4)
	var near []candidate
	for _, k := range known {
		if d := rating.EditDistance(in, strings.ToLower(k)); d <= limit {
			near = append(near, candidate{k, d})
		}
	}
	slices.SortStableFunc(near, func(a, b candidate) int { return a.dist - b.dist })
	var out []string
	for _, c := range near {
		if c.dist <= near[0].dist+1 {
			out = append(out, c.name)
		}
	}
	if len(out) == 0 && len(in) >= 3 {
		for _, k := range known {
			if strings.Contains(strings.ToLower(k), in) {
				out = append(out, k)
			}
		}
	}
	return out[:min(n, len(out))]
}

// didYouMean is "; did you mean X?" (or "X or Y") for a message, or "".
func didYouMean(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("; did you mean %s?", names[0])
	}
	return fmt.Sprintf("; did you mean %s or %s?", strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
}

// resolveTask turns a -task value, an id or an AIES alias, into the task
// id. An unknown one is a usage error naming the closest tasks. The tasks
// are built in, so the client knows them as the server does.
func resolveTask(cmd, name string) (string, error) {
	if name == "" {
		return "", nil
	}
	if t, ok := rating.LookupTask(name); ok {
		return t.ID, nil
	}
	var names []string
	byName := map[string]string{}
	for _, t := range rating.Tasks() {
		names = append(names, t.ID)
		byName[t.ID] = t.ID
		if t.AIESAlias != "" {
			names = append(names, t.AIESAlias)
			byName[t.AIESAlias] = t.ID
		}
	}
	var ids []string
	for _, n := range closest(name, names, len(names)) {
		if id := byName[n]; !slices.Contains(ids, id) && len(ids) < 3 {
			ids = append(ids, id)
		}
	}
	return "", briefUsageErrorf(cmd, "-task %s: unknown task%s ('energylabel tasks' lists them)", quoteShort(name), didYouMean(ids))
}

// quoteShort quotes a value from the command line for a message, cut to a
// length a message can hold.
func quoteShort(s string) string {
	const maxRunes = 40
	if r := []rune(s); len(r) > maxRunes {
		s = string(r[:maxRunes]) + "…"
	}
	return fmt.Sprintf("%q", s)
}
