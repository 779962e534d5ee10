package label

// Markdown is the snippet a publisher pastes into a model card: the grade
// badge, linking to the model's page on the server at baseURL.
func Markdown(baseURL, model, task string) string {
	return "[![AI energy rating](" + baseURL + "/badge/" + model + ".svg?task=" + task + ")](" + baseURL + "/models/" + model + ")"
}
