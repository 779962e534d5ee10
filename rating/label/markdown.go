package label

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
