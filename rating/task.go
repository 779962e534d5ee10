// Package rating is the energylabel domain: task classes, normalisation of
// measured energy, validation of results, cohorts, and the grading schemes.
// It does no I/O and knows nothing of gRPC or storage.
package rating

import "strings"

// Unit is a functional unit: one unit of useful output of a task.
type Unit int

// The functional units. Query is also the basis of a result that reports no
// output sizes.
const (
	Query Unit = iota
	OutputToken
	OutputMegapixel
	OutputMegapixelFrame
)

var unitNames = [...]string{"query", "output_token", "output_megapixel", "output_megapixel_frame"}

// String returns the unit's name as the API spells a basis.
func (u Unit) String() string { return unitNames[u] }

// Symbol is the unit of energy per functional unit, e.g. "J/token".
func (u Unit) Symbol() string {
	switch u {
	case OutputToken:
		return "J/token"
	case OutputMegapixel:
		return "J/MP"
	case OutputMegapixelFrame:
		return "J/MP-frame"
	}
	return "Wh/1k queries"
}

// ParseUnit parses a basis name.
func ParseUnit(s string) (Unit, bool) {
	for i, n := range unitNames {
		if n == s {
			return Unit(i), true
		}
	}
	return Query, false
}

// Task is a task class: what a model does, and how its output is measured.
type Task struct {
	ID string
	// AIESAlias is the AI Energy Score name of the task; empty when AIES has none.
	AIESAlias string
	Unit      Unit
	// SizeClasses is true where results are graded within size classes A, B, C.
	SizeClasses bool
	// DefaultDataset is the workload a result is assumed to run when it names none.
	DefaultDataset string
}

var tasks = []Task{
	{ID: "text-generation", AIESAlias: "text_generation", Unit: OutputToken, SizeClasses: true},
	{ID: "reasoning", AIESAlias: "reasoning", Unit: OutputToken, SizeClasses: true},
	{ID: "summarization", AIESAlias: "summarization", Unit: Query},
	{ID: "question-answering", AIESAlias: "question_answering", Unit: Query},
	{ID: "text-classification", AIESAlias: "text_classification", Unit: Query},
	{ID: "sentence-similarity", AIESAlias: "sentence_similarity", Unit: Query},
	{ID: "image-classification", AIESAlias: "image_classification", Unit: Query},
	{ID: "object-detection", AIESAlias: "object_detection", Unit: Query},
	{ID: "automatic-speech-recognition", AIESAlias: "asr", Unit: Query},
	{ID: "text-to-image", AIESAlias: "image_generation", Unit: OutputMegapixel},
	{ID: "image-to-text", AIESAlias: "image_captioning", Unit: Query},
	// Tasks that AIES does not run take their default workload from ML.ENERGY.
	{ID: "image-text-to-text", Unit: OutputToken, DefaultDataset: "ml.energy/image-chat"},
	{ID: "video-text-to-text", Unit: OutputToken, DefaultDataset: "ml.energy/video-chat"},
	{ID: "text-to-video", Unit: OutputMegapixelFrame, DefaultDataset: "ml.energy/text-to-video"},
}

var taskByName = func() map[string]Task {
	m := make(map[string]Task, 2*len(tasks))
	for i := range tasks {
		t := &tasks[i]
		if t.AIESAlias != "" {
			t.DefaultDataset = "AIEnergyScore/" + t.AIESAlias
			m[t.AIESAlias] = *t
		}
		m[t.ID] = *t
	}
	return m
}()

// Tasks returns the built-in task classes in a stable order.
func Tasks() []Task { return append([]Task(nil), tasks...) }

// LookupTask finds a task by id or AIES alias, ignoring case and
// surrounding space.
func LookupTask(name string) (Task, bool) {
	t, ok := taskByName[strings.ToLower(strings.TrimSpace(name))]
	return t, ok
}

// SizeClass returns the AIES size class for a parameter count in billions:
// A ≤ 20B, B ≤ 66B, C above.
func SizeClass(paramsBillions float64) string {
	switch {
	case paramsBillions <= 20:
		return "A"
	case paramsBillions <= 66:
		return "B"
	}
	return "C"
}
