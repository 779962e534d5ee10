package label

import "net/url"

// Markdown is the snippet a publisher pastes into a model card: the grade
// badge, linking to the model's page on the server at baseURL. query, an
// escaped URL query without its "?", selects the rating: the task, and to
// pin one cohort, hardware and dataset.
func Markdown(baseURL, model, query string) string {
	if query != "" {
		query = "?" + query
	}
	return "[![AI energy rating](" + baseURL + "/badge/" + model + ".svg" + query + ")](" + baseURL + "/models/" + model + ")"
}

// ShieldsMarkdown is the same snippet with the badge drawn by shields.io
// from the server's endpoint JSON
// (https://img.shields.io/endpoint?url=BASE/badge/MODEL.json?QUERY), for
// a model card that wants shields' own rendering, caching and styles
// (append &style=flat-square and the like).
func ShieldsMarkdown(baseURL, model, query string) string {
	endpoint := baseURL + "/badge/" + model + ".json"
	if query != "" {
		endpoint += "?" + query
	}
	return "[![AI energy rating](https://img.shields.io/endpoint?url=" + url.QueryEscape(endpoint) + ")](" + baseURL + "/models/" + model + ")"
}
