package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// How the API client commands print. json is what `aws ivs --output json` prints for the
// same call; text and table are for people.
const (
	outputText  = "text"
	outputTable = "table"
	outputJSON  = "json"
)

// maxResponseBody bounds what the recorder keeps of one response; IVS answers are a few KB.
const maxResponseBody = 8 << 20

// responseRecorder is an HTTP client that keeps each response body as the service sent it.
// --output json prints those bodies rather than the SDK's Go structs, whose field names
// (Arn, PlaybackUrl) are not the model's (arn, playbackUrl) and which cannot tell an absent
// member from a zero one: the AWS CLI prints the response members, so printing them is how
// the shapes stay the same without a second copy of the model.
type responseRecorder struct {
	next aws.HTTPClient

	mu     sync.Mutex
	bodies [][]byte
}

func (r *responseRecorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := r.next.Do(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(body) > maxResponseBody {
		return nil, fmt.Errorf("response from %s larger than %d bytes", req.URL.Path, maxResponseBody)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if resp.StatusCode/100 == 2 {
		r.mu.Lock()
		r.bodies = append(r.bodies, body)
		r.mu.Unlock()
	}
	return resp, nil
}

// take returns the successful response bodies recorded since the last take.
func (r *responseRecorder) take() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.bodies
	r.bodies = nil
	return b
}

// printResponse prints the last API response as the AWS CLI's --output json does: the
// body's members indented by four spaces, nothing for an empty body or {}.
func (f *apiFlags) printResponse(std *stdio) error {
	bodies := f.responses.take()
	if len(bodies) == 0 {
		return nil
	}
	var v map[string]json.RawMessage
	body := bytes.TrimSpace(bodies[len(bodies)-1])
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("the service's answer is not a JSON object: %w", err)
	}
	if len(v) == 0 {
		return nil
	}
	return printIndented(std, body)
}

// printPages prints the pages of a list call as one, as the AWS CLI does when it follows
// nextToken itself: the items of every page under key, and no nextToken.
func (f *apiFlags) printPages(std *stdio, key string) error {
	all := []json.RawMessage{}
	for _, body := range f.responses.take() {
		var page map[string]json.RawMessage
		if err := json.Unmarshal(body, &page); err != nil {
			return fmt.Errorf("the service's answer is not a JSON object: %w", err)
		}
		var items []json.RawMessage
		if raw, ok := page[key]; ok {
			if err := json.Unmarshal(raw, &items); err != nil {
				return fmt.Errorf("the service's %s is not a list: %w", key, err)
			}
		}
		all = append(all, items...)
	}
	// No HTML escaping: the CLI prints & < > as they are.
	var merged bytes.Buffer
	enc := json.NewEncoder(&merged)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]any{key: all}); err != nil {
		return err
	}
	return printIndented(std, merged.Bytes())
}

func printIndented(std *stdio, body []byte) error {
	var b bytes.Buffer
	if err := json.Indent(&b, body, "", "    "); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err := std.out.Write(b.Bytes())
	return err
}
