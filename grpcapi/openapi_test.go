package grpcapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// openAPIDoc is what the tests read of the OpenAPI document.
type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Servers []struct {
		URL string `json:"url"`
	} `json:"servers"`
	Paths map[string]map[string]struct {
		Parameters []struct {
			Ref string `json:"$ref"`
		} `json:"parameters"`
		Responses map[string]struct {
			Content map[string]json.RawMessage `json:"content"`
		} `json:"responses"`
	} `json:"paths"`
	Components struct {
		Parameters map[string]struct {
			Name string `json:"name"`
			In   string `json:"in"`
		} `json:"parameters"`
	} `json:"components"`
}

// The committed document is OpenAPI 3.1 throughout: no "nullable" (3.0's),
// and a default server.
func TestTheOpenAPIDocumentIs31(t *testing.T) {
	data, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	if strings.Contains(string(data), `"nullable"`) {
		t.Error(`the document has "nullable", which OpenAPI 3.1 dropped: run scripts/generate.sh`)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "http://127.0.0.1:8080" {
		t.Errorf("servers %+v, want the default http://127.0.0.1:8080", doc.Servers)
	}
	// A field that may be absent admits null, 3.1's way.
	if !regexp.MustCompile(`"type": \[\s*"number",\s*"null"\s*\]`).Match(data) {
		t.Error("no nullable number in 3.1 form")
	}
}

// The document served names the server's own public URL, and describes the
// images as well as the reads: each image route documented answers, with
// the documented content type, and reads each documented query parameter.
func TestOpenAPINamesTheServerAndDescribesTheImages(t *testing.T) {
	srv := servertest.Start(t)
	base := "http://" + srv.HTTPAddr
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/clf", 0.5)}); err != nil {
		t.Fatal(err)
	}
	resp, body := servertest.HTTPGet(t, base+"/openapi.json")
	var doc openAPIDoc
	if err := json.Unmarshal(body, &doc); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/openapi.json: %d %v", resp.StatusCode, err)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != base {
		t.Errorf("servers %+v, want the server's base URL %s", doc.Servers, base)
	}
	if !json.Valid(body) {
		t.Error("the served document is not JSON")
	}
	images := 0
	for path, ops := range doc.Paths {
		if strings.HasPrefix(path, "/energylabel.v1.") {
			continue
		}
		op, ok := ops["get"]
		if !ok {
			t.Errorf("%s: no GET", path)
			continue
		}
		images++
		var types []string
		for ct := range op.Responses["200"].Content {
			types = append(types, ct)
		}
		if len(types) != 1 {
			t.Errorf("%s: 200 content %v, want one type", path, types)
			continue
		}
		query := "?task=text-classification"
		for _, p := range op.Parameters {
			param := doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
			if param.In == "query" && param.Name != "task" {
				query += "&" + param.Name + "="
			}
		}
		if strings.Contains(query, "&label=") {
			query = strings.Replace(query, "&label=", "&label=energy", 1)
		}
		url := base + strings.NewReplacer("{owner}", "acme", "{name}", "clf").Replace(path) + query
		resp, body := servertest.HTTPGet(t, url)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != types[0] || resp.Header.Get("ETag") == "" {
			t.Errorf("GET %s: %d %s ETag %q; the document says 200 %s with an ETag", url, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("ETag"), types[0])
		}
		if types[0] == "image/svg+xml" && strings.Contains(string(body), "not rated") {
			t.Errorf("GET %s: not rated", url)
		}
		if resp, _ := servertest.HTTPGet(t, url, "If-None-Match", resp.Header.Get("ETag")); resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %d, want the documented 304", url, resp.StatusCode)
		}
	}
	if images != 5 {
		t.Errorf("%d image routes documented, want 5 (badge .svg and .json, label .svg and .png, history .svg)", images)
	}
}

// A POST whose Content-Type no protocol reads is refused 415, as Connect
// refuses it, with a body that says what to send.
func TestAnUnsupportedContentTypeIsToldWhatToSend(t *testing.T) {
	srv := servertest.Start(t)
	url := rpcURL(srv, "GetRating")
	for _, ct := range []string{"", "application/x-www-form-urlencoded", "text/plain"} {
		if ct == "text/plain" {
			url = rpcURL(srv, "WatchRatings") // a stream, which takes Connect's streaming types
		}
		req, _ := http.NewRequest("POST", url, strings.NewReader(`{"model":"acme/clf"}`))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		msg := string(body)
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("Content-Type %q: %d, want 415", ct, resp.StatusCode)
		}
		wants := []string{"application/json, application/proto, application/grpc-web", "curl -H 'Content-Type: application/json'"}
		if strings.HasSuffix(url, "WatchRatings") {
			wants = []string{"application/connect+json, application/connect+proto, application/grpc-web"}
		}
		for _, want := range wants {
			if !strings.Contains(msg, want) {
				t.Errorf("Content-Type %q: body %q does not name %s", ct, msg, want)
			}
		}
		if ct != "" && !strings.Contains(msg, `"`+ct+`"`) || ct == "" && !strings.Contains(msg, "no Content-Type") {
			t.Errorf("Content-Type %q: body %q does not say what was sent", ct, msg)
		}
		if resp.Header.Get("Accept-Post") == "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("Content-Type %q: Accept-Post %q, Content-Type %q", ct, resp.Header.Get("Accept-Post"), resp.Header.Get("Content-Type"))
		}
	}
	// A GET with a body, and a method no read takes.
	url = rpcURL(srv, "GetRating")
	req, _ := http.NewRequest("GET", url+"?encoding=json&message=%7B%7D", strings.NewReader("{}"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(string(body), "no body") {
		t.Errorf("a GET with a body: %d %q", resp.StatusCode, body)
	}
	req, _ = http.NewRequest("PUT", url, strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || !regexp.MustCompile(`method PUT is not allowed .*; allowed: .*POST`).Match(body) {
		t.Errorf("a PUT: %d %q", resp.StatusCode, body)
	}
	// A read with the right type still answers.
	if resp, body := postJSON(t, srv, "ListTasks", `{}`); resp.StatusCode == http.StatusUnsupportedMediaType {
		t.Errorf("application/json refused: %s", body)
	}
}
