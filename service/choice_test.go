package service_test

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating/label"
)

// badgeEnergy is the energy a badge shows, "" for none.
func badgeEnergy(t *testing.T, rawURL string) string {
	t.Helper()
	resp, body := servertest.HTTPGet(t, rawURL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", rawURL, resp.StatusCode, body)
	}
	m := regexp.MustCompile(`· ([0-9.e-]+ .?Wh)/1k`).FindStringSubmatch(servertest.WellFormedSVG(t, body))
	if m == nil {
		return ""
	}
	return m[1]
}

func TestWhichRatingABadgeShows(t *testing.T) {
	srv := servertest.Start(t)
	base := "http://" + srv.HTTPAddr
	// acme/m on H100 and B200 with the default dataset, and on H100 with a
	// dataset whose name sorts before the default one.
	admin := energylabelv1.NewAdminServiceClient(servertest.Dial(t, srv.Addr))
	if _, err := admin.AddDataset(servertest.WithToken(srv.AdminToken), &energylabelv1.AddDatasetRequest{Dataset: &energylabelv1.Dataset{
		Name: "AIEnergyScore/a", Task: "text-classification", Basis: "query"}}); err != nil {
		t.Fatal(err)
	}
	servertest.SubmitClassification(t, srv, "acme/m", "H100", "", 0.2)
	servertest.SubmitClassification(t, srv, "acme/m", "B200", "", 0.3)
	servertest.SubmitClassification(t, srv, "acme/m", "H100", "AIEnergyScore/a", 0.01)
	for i := range 2 {
		servertest.SubmitClassification(t, srv, fmt.Sprintf("acme/h100-%d", i), "H100", "", 0.5)
	}
	wh := func(v float64) string { return label.FormatEnergy(v, "Wh") }
	badge := base + "/badge/acme/m.svg?task=text-classification"

	tests := []struct {
		name, query, want string
	}{
		{"the default dataset, and of those the largest cohort", "", wh(0.2)},
		{"hardware chooses the cohort", "&hardware=B200", wh(0.3)},
		{"hardware is matched as the registry names it", "&hardware=b200", wh(0.3)},
		{"hardware as NVML names it", "&hardware=NVIDIA+H100+80GB+HBM3", wh(0.2)},
		{"dataset chooses the cohort", "&dataset=AIEnergyScore%2Fa", wh(0.01)},
		{"dataset and hardware together", "&dataset=AIEnergyScore%2Ftext_classification&hardware=H100", wh(0.2)},
		{"unknown parameters change nothing", "&u=" + strings.Repeat("x", 100), wh(0.2)},
		{"a cohort the model is not in is not rated", "&hardware=A100", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := badgeEnergy(t, badge+tt.query); got != tt.want {
				t.Errorf("badge%s shows %q/1k, want %q", tt.query, got, tt.want)
			}
		})
	}

	// Once B200's cohort has more models, it is the one shown.
	for i := range 3 {
		servertest.SubmitClassification(t, srv, fmt.Sprintf("acme/b200-%d", i), "B200", "", 0.5)
	}
	if got := badgeEnergy(t, badge); got != wh(0.3) {
		t.Errorf("with 4 models on B200 and 3 on H100 the badge shows %q, want B200's %q", got, wh(0.3))
	}

	for bad, words := range map[string]string{"hardware=" + strings.Repeat("H", 300): "bad hardware", "dataset=" + strings.Repeat("d", 300): "bad dataset", "task=" + strings.Repeat("j", 50000): "unknown task"} {
		servertest.ProblemBadge(t, base+"/badge/acme/m.svg?"+bad, words)
	}
}

func TestEachCardOfAModelPageShowsItsOwnCohort(t *testing.T) {
	srv := servertest.Start(t)
	base := "http://" + srv.HTTPAddr
	servertest.SubmitClassification(t, srv, "acme/m", "H100", "", 0.2)
	servertest.SubmitClassification(t, srv, "acme/m", "B200", "", 0.3)
	_, page := servertest.HTTPGet(t, base+"/models/acme/m")
	labels := regexp.MustCompile(`src="(/label/acme/m\.svg\?[^"]*)"`).FindAllStringSubmatch(string(page), -1)
	if len(labels) != 2 {
		t.Fatalf("%d labels on the page, want 2:\n%s", len(labels), page)
	}
	var shown []string
	for _, m := range labels {
		src := html.UnescapeString(m[1])
		for _, want := range []string{"task=text-classification", "dataset=AIEnergyScore/text_classification", "hardware="} {
			if !strings.Contains(src, want) {
				t.Errorf("label URL %s lacks %s", src, want)
			}
		}
		_, body := servertest.HTTPGet(t, base+src)
		for _, hw := range []string{"H100", "B200"} {
			if strings.Contains(src, "hardware="+hw) && !strings.Contains(servertest.WellFormedSVG(t, body), hw) {
				t.Errorf("the card's label %s does not show %s", src, hw)
			}
		}
		shown = append(shown, src)
	}
	if shown[0] == shown[1] {
		t.Errorf("both cards embed %s", shown[0])
	}
	for _, hw := range []string{"B200", "H100"} {
		badges := regexp.MustCompile(`src="/badge/acme/m\.svg\?[^"]*hardware=`+hw).FindAllString(string(page), -1)
		if len(badges) != 2 {
			t.Errorf("the %s card has %d badges of its own cohort, want 2 (grade and stars)", hw, len(badges))
		}
	}
}
