package web_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/label"
)

// One word, one meaning, and units that agree, on every page: a size
// class is always "size class", never "class" alone; every energy figure
// names its unit in full, without an SI prefix; the front page gives each
// task the units its registered datasets rate it in; and a model page
// says in one line that its grade is absolute and its stars relative.
func TestPagesSayWhatTheyMean(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	servertest.ImportAIES(t, rs, srv.AdminToken)
	servertest.CreateRelease(t, conn, srv.AdminToken, "aies-2025-02")
	base := "http://" + srv.HTTPAddr
	text := func(path string) string {
		t.Helper()
		_, body := servertest.HTTPGet(t, base+path)
		return textOf(mainOf(string(body)))
	}

	loneClass := regexp.MustCompile(`(?i)\bclass(es)?\b`)
	shortUnit := regexp.MustCompile(`\d (mWh|µWh|kWh|MWh|mJ|µJ|kJ)\b|Wh/1k($|[^ ]| [^q])`)
	for _, path := range []string{"/", "/tasks/text-generation", "/tasks/asr", "/models/openai-community/gpt2", "/models/openai/whisper-large-v3",
		"/search?q=llama", "/search?q=whisper", "/tasks/text-gen", "/models/nosuch/model"} {
		body := text(path)
		for _, m := range loneClass.FindAllStringIndex(body, -1) {
			if !strings.EqualFold(body[max(0, m[0]-5):m[0]], "size ") {
				t.Errorf("%s says %q: a size class is a \"size class\", a grade a \"grade\"", path, body[max(0, m[0]-30):min(len(body), m[1]+30)])
			}
		}
		if m := shortUnit.FindStringIndex(body); m != nil {
			t.Errorf("%s writes a figure as %q: no SI prefix, the unit in full", path, body[max(0, m[0]-20):min(len(body), m[1]+20)])
		}
	}

	// The front page: each task's units, by its registered datasets.
	_, front := servertest.HTTPGet(t, base+"/")
	cards := map[string]string{}
	for _, li := range strings.Split(string(front), "<li>")[1:] {
		if m := regexp.MustCompile(`^<a href="/tasks/([^"]+)">`).FindStringSubmatch(li); m != nil {
			cards[m[1]] = textOf(li[:strings.Index(li, "</li>")])
		}
	}
	for _, task := range rating.Tasks() {
		card, ok := cards[task.ID]
		if !ok {
			t.Errorf("the front page does not list %s", task.ID)
		}
		for _, d := range rating.BuiltinDatasets().All() {
			if d.Task == task.ID && !strings.Contains(card, d.Basis.Symbol()+" on ") || d.Task == task.ID && !strings.Contains(card, d.Name) {
				t.Errorf("the front page's %s does not say %s rates it in %s: %q", task.ID, d.Name, d.Basis.Symbol(), card)
			}
		}
	}
	if card := cards["text-classification"]; !strings.HasSuffix(card, "Rated in Wh/1k queries on AIEnergyScore/text_classification") {
		t.Errorf("the front page gives text-classification as %q, want its one unit", card)
	}

	// A model page: its grade is absolute, its stars relative, in one line.
	whisper := ratingOf(t, rs, "openai/whisper-large-v3")
	want := fmt.Sprintf("Grade %s is absolute (against the fixed references of %s); %d of 5 stars are relative (against this cohort in release %s).",
		whisper.GetGrade(), whisper.GetScheme(), whisper.GetStars(), whisper.GetRelease())
	_, body := servertest.HTTPGet(t, base+"/models/openai/whisper-large-v3")
	line := regexp.MustCompile(`<p class="meaning">(.*)</p>`).FindStringSubmatch(string(body))
	if line == nil || textOf(line[1]) != want {
		t.Errorf("the model page's meaning line is %q, want %q", line, want)
	}
	if status := label.StatusText(label.Rating{Verification: label.Verification{Status: whisper.GetVerification().GetStatus()}}); !strings.Contains(string(body), `<p class="verdict">`) ||
		!strings.Contains(textOf(regexp.MustCompile(`<p class="verdict">(.*)</p>`).FindStringSubmatch(string(body))[1]), status) {
		t.Errorf("the model page's verdict does not give the status %q beside the grade and stars", status)
	}
}
