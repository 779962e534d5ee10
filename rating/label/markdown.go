package label

import "net/url"

// Markdown is the snippet a publisher pastes into a model card: the grade
// badge, linking to the model's page on the server at baseURL. The query
// (task, and to pin one cohort, hardware and dataset) selects the rating.
func Markdown(baseURL, model string, query url.Values) string {
	q := ""
	if len(query) > 0 {
		q = "?" + query.Encode()
	}
	return "[![AI energy rating](" + baseURL + "/badge/" + model + ".svg" + q + ")](" + baseURL + "/models/" + model + ")"
}
