package web_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	"github.com/energylabel/energylabel/limits"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
)

// Every error page is a styled HTML page with the status its error's kind
// maps to, and a way back: the front page always, the tasks for an
// unknown task, and for a model without a rating the commands that rate
// it. Images of what does not exist still answer 200 with a grey picture.
func TestErrorPagesAreStyledAndLeadBack(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	servertest.ImportAIES(t, rs, srv.AdminToken)
	base := "http://" + srv.HTTPAddr
	page := func(method, path string, status int) string {
		t.Helper()
		req, err := http.NewRequest(method, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		body := string(b)
		if resp.StatusCode != status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s %s: %d %s, want %d text/html", method, path, resp.StatusCode, resp.Header.Get("Content-Type"), status)
		}
		if !strings.Contains(body, "<style>") || !strings.Contains(body, `<a href="/">`) {
			t.Errorf("%s %s is not a styled page with a link to the front page:\n%s", method, path, mainOf(body))
		}
		return body
	}

	// An unknown task lists every task, the closest first.
	body := page("GET", "/tasks/text-gen", http.StatusNotFound)
	if !strings.Contains(body, `<a href="/tasks/text-generation">Did you mean text-generation?</a>`) {
		t.Error("the unknown task's page does not suggest text-generation")
	}
	for _, task := range rating.Tasks() {
		if !strings.Contains(body, `<a href="/tasks/`+task.ID+`">`+task.ID+`</a>`) {
			t.Errorf("the unknown task's page does not list %s", task.ID)
		}
	}
	// A path no route serves, even under a route's prefix.
	for _, path := range []string{"/no/such/page", "/models/acme", "/badge/openai/whisper-large-v3.gif", "/tasks/"} {
		if body := page("GET", path, http.StatusNotFound); !strings.Contains(body, "There is no page at") {
			t.Errorf("%s: %s", path, mainOf(body))
		}
	}
	// A method the page does not take, and one no page does.
	page("POST", "/models/openai/whisper-large-v3", http.StatusMethodNotAllowed)
	page("DELETE", "/no/such/page", http.StatusNotFound)
	// A page parameter that is wrong is a 400 of the same look.
	page("GET", "/tasks/asr?page=0", http.StatusBadRequest)

	// A model without a rating: how to get one, by the CLI's commands.
	body = textOf(page("GET", "/models/nosuch/model", http.StatusNotFound))
	for _, want := range []string{
		"energylabel -token \"$ADMIN_TOKEN\" token create -namespace nosuch",
		"energylabel submit -token \"$ENERGYLABEL_TOKEN\" -model nosuch/model -task TASK result.json",
		"energylabel badge nosuch/model -task TASK -markdown",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the unrated model's page lacks %q:\n%s", want, body)
		}
	}
	// Its images are grey pictures, answered 200.
	for _, path := range []string{"/badge/nosuch/model.svg", "/badge/nosuch/model.json", "/label/nosuch/model.svg", "/label/nosuch/model.png", "/history/nosuch/model.svg"} {
		if resp, _ := servertest.HTTPGet(t, base+path); resp.StatusCode != http.StatusOK || strings.HasPrefix(resp.Header.Get("Content-Type"), "text/") {
			t.Errorf("%s: %d %s, want an image, 200", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	// The unmatched paths count as one route, whatever the path.
	_, metrics := servertest.HTTPGet(t, base+"/metrics")
	if !strings.Contains(string(metrics), `energylabel_http_requests_total{code="404",route="unmatched"}`) {
		t.Error("the 404s of unknown paths are not counted as unmatched")
	}
}

// A caller past its read budget gets a styled 429 page that says when to
// retry.
func TestABusyPageIsStyled(t *testing.T) {
	srv := servertest.StartWith(t, servertest.Options{Limits: limits.Limits{ReadBudget: limits.RateLimit{Rate: 0.001, Burst: 2}}})
	base := "http://" + srv.HTTPAddr
	for i := range 5 {
		resp, body := servertest.HTTPGet(t, base+fmt.Sprintf("/search?q=m%d", i))
		if resp.StatusCode != http.StatusTooManyRequests {
			continue
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || resp.Header.Get("Retry-After") == "" ||
			!strings.Contains(string(body), "<h1>Too many requests</h1>") || !strings.Contains(string(body), `<a href="/">`) {
			t.Errorf("a 429: %s, Retry-After %q:\n%s", resp.Header.Get("Content-Type"), resp.Header.Get("Retry-After"), mainOf(string(body)))
		}
		return
	}
	t.Error("five pages past a budget of two: no 429")
}

// A label names the release its stars are of: a new release that leaves
// the stars as they were still draws the label anew.
func TestALabelNamesItsRelease(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	servertest.ImportAIES(t, rs, srv.AdminToken)
	labelURL := "http://" + srv.HTTPAddr + "/label/openai/whisper-large-v3.svg"
	servertest.CreateRelease(t, conn, srv.AdminToken, "r1")
	_, body := servertest.HTTPGet(t, labelURL)
	if text := servertest.WellFormedSVG(t, body); !strings.Contains(text, "release r1") {
		t.Fatalf("the label does not name release r1: %q", text[max(0, len(text)-600):])
	}
	stars := ratingOf(t, rs, "openai/whisper-large-v3").GetStars()
	servertest.CreateRelease(t, conn, srv.AdminToken, "r2")
	if again := ratingOf(t, rs, "openai/whisper-large-v3").GetStars(); again != stars {
		t.Fatalf("the stars moved from %d to %d with no new result", stars, again)
	}
	_, body = servertest.HTTPGet(t, labelURL)
	if text := servertest.WellFormedSVG(t, body); !strings.Contains(text, "release r2") || strings.Contains(text, "release r1") {
		t.Errorf("after release r2, the label reads %q", text[max(0, len(text)-600):])
	}
}
