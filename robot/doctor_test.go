package robot_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"briefd/robot"
	"briefd/robot/robottest"
)

// TestDiagnose: a robot whose host answers passes without a post; one whose port is closed fails with
// the advice to open the firewall, and its key never appears in what doctor prints.
func TestDiagnose(t *testing.T) {
	srv := robottest.New(t, robottest.WeCom, testKey, robottest.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	env := map[string]string{"UP": srv.URL(), "DOWN": "http://" + closed + "/cgi-bin/webhook/send?key=" + testKey}
	var rs []*robot.Robot
	for _, name := range []string{"UP", "DOWN"} {
		c := robot.Config{Name: name, Kind: robot.WeCom, URLEnv: name, Events: []robot.Event{robot.EventAlert}}
		r, err := c.Resolve(func(k string) string { return env[k] }, robot.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	cs := robot.Diagnose(context.Background(), rs)
	if len(cs) != 2 || !cs[0].OK || cs[1].OK {
		t.Fatalf("checks %+v", cs)
	}
	if !strings.Contains(cs[0].Detail, "可以连通") || !strings.Contains(cs[1].Fix, "防火墙") {
		t.Errorf("checks say %+v", cs)
	}
	if len(srv.Accepted())+len(srv.Refused()) != 0 {
		t.Error("doctor posted to the robot")
	}
	for _, c := range cs {
		if strings.Contains(c.Detail+c.Fix+c.Step, testKey) {
			t.Errorf("the key leaks: %+v", c)
		}
	}
}
