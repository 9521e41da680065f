package robot_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"briefd/robot"
)

// A sender posts a queued message and decides, from the error, what to do with the outbox item.
func Example() {
	c := robot.Config{Name: "职教科群", Kind: robot.DingTalk, URLEnv: "BRIEFD_ROBOT_URL", SecretEnv: "BRIEFD_ROBOT_SECRET",
		Events: []robot.Event{robot.EventAlert, robot.EventProblems}}
	r, err := c.Resolve(os.Getenv, robot.Options{})
	if err != nil {
		fmt.Println(err) // robot "职教科群": url_env: environment variable BRIEFD_ROBOT_URL is not set …
		return
	}
	if !r.Wants(robot.EventAlert) {
		return
	}
	if wait := r.Ready(); wait > 0 {
		fmt.Println("over the robot's rate: try again in", wait)
		return
	}
	m := robot.AlertMessage(true, time.Now().Add(-2*time.Hour), "dial tcp: i/o timeout")
	_, err = r.Post(context.Background(), m)
	switch {
	case err == nil:
		fmt.Println("sent")
	case robot.IsTemporary(err):
		fmt.Println("retry after at least", robot.RetryAfter(err), "—", err)
	default:
		fmt.Println("failed for good:", err) // keep the item with this text
	}
}
