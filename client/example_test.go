package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/energylabel/energylabel/client"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

func Example() {
	c, err := client.Dial("127.0.0.1:50051", client.WithToken("publisher-token"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	resp, err := c.Submit(ctx, &energylabelv1.BenchmarkResult{
		Model: "acme/tiny-clf", Task: "text-classification",
		Hardware: &energylabelv1.Hardware{Accelerator: "H100", Count: 1},
		Queries:  1000, GpuEnergyWh: 0.9, DurationSeconds: 41.5,
	}, "")
	var invalid *client.InvalidArgumentError
	switch {
	case errors.As(err, &invalid):
		for _, v := range invalid.Violations {
			fmt.Printf("fix %s: %s\n", v.Field, v.Description)
		}
		return
	case errors.Is(err, client.ErrPermissionDenied):
		log.Fatal("this token may not publish for acme")
	case err != nil:
		log.Fatal(err)
	}
	for _, r := range resp.GetRatings() {
		fmt.Printf("result %d: grade %s, %d stars\n", resp.GetResultId(), r.GetGrade(), r.GetStars())
	}

	// Every rating of a cohort, best first, across pages.
	for r, err := range c.Ratings(ctx, &energylabelv1.ListRatingsRequest{Task: "text-classification"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(r.GetModel(), r.GetGrade())
	}
}
