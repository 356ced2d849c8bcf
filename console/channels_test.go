package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	ivstypes "github.com/aws/aws-sdk-go-v2/service/ivs/types"
	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/playkey/playkey"
)

func TestConsoleChannels(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.call(func(ctx context.Context) error {
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			_, err := chromedp.Call(ctx, browser.SetPermission, browser.SetPermissionParams{
				Permission: &browser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true},
				Setting:    browser.PermissionSettingGranted,
				Origin:     e.url,
			})
			if err != nil {
				return err
			}
		}
		return nil
	})

	// Another client made ten channels and two policies before the user arrives.
	var others []string
	for i, name := range []string{"lobby", "keynote", "stage-a", "stage-b", "backstage", "q-and-a", "sports-live", "music-hall", "town-hall", "webinar"} {
		in := &ivs.CreateChannelInput{Name: aws.String(name), Authorized: i%3 == 0}
		if i%2 == 1 {
			in.LatencyMode = ivstypes.ChannelLatencyModeNormalLatency
		}
		if i%4 == 2 {
			in.Type = ivstypes.ChannelTypeBasicChannelType
		}
		out, err := e.sdk.CreateChannel(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		others = append(others, aws.ToString(out.Channel.Arn))
	}
	geo, err := e.sdk.CreatePlaybackRestrictionPolicy(ctx, &ivs.CreatePlaybackRestrictionPolicyInput{
		Name: aws.String("us-only"), AllowedCountries: []string{"US"},
	})
	if err != nil {
		t.Fatal(err)
	}
	doomed, err := e.sdk.CreatePlaybackRestrictionPolicy(ctx, &ivs.CreatePlaybackRestrictionPolicyInput{Name: aws.String("doomed")})
	if err != nil {
		t.Fatal(err)
	}
	geoARN, doomedARN := aws.ToString(geo.PlaybackRestrictionPolicy.Arn), aws.ToString(doomed.PlaybackRestrictionPolicy.Arn)

	e.step(t, "the list", func(t *testing.T) {
		e.signIn()
		e.click(`#nav a[data-page="channels"]`)
		e.waitFor("ten rows", `document.querySelectorAll('#channels tbody tr').length === 10`)
		if cur := run(e, chromedp.AttributeValue(chromedp.CSS(`#nav a[data-page="channels"]`), "aria-current")).Value; cur != "page" {
			t.Errorf("the Channels nav link has aria-current %q", cur)
		}
		row := `#channels tr[data-name="lobby"]`
		if got := e.text(row + " .channel-auth"); got != "Private" {
			t.Errorf("lobby (authorized) shown as %q", got)
		}
		if got := e.text(`#channels tr[data-name="keynote"] .channel-auth`); got != "Public" {
			t.Errorf("keynote (public) shown as %q", got)
		}
		if got := run(e, chromedp.AttributeValue(chromedp.CSS(`#channels tr[data-name="keynote"] .channel-latency`), "data-value")).Value; got != "NORMAL" {
			t.Errorf("keynote latency %q, want NORMAL", got)
		}
		if got := run(e, chromedp.AttributeValue(chromedp.CSS(`#channels tr[data-name="stage-a"] .channel-type`), "data-value")).Value; got != "BASIC" {
			t.Errorf("stage-a type %q, want BASIC", got)
		}
		if got := e.text(row + " .channel-arn"); got != others[0] {
			t.Errorf("lobby ARN shown %q, want %q", got, others[0])
		}
		e.shot("channels-list")

	})
	e.step(t, "keyboard: Create opens with Enter, Escape closes, focus returns", func(t *testing.T) {
		e.do(chromedp.Focus(chromedp.CSS("#create-channel")), chromedp.KeyEvent(kb.Enter))
		e.visible("#create-channel-dialog[open]")
		if id := eval[string](e, `document.activeElement.id`); id != "channel-name" {
			t.Errorf("focus in the Create channel dialog is on %q, want channel-name", id)
		}
		e.do(chromedp.KeyEvent(kb.Escape))
		e.gone("#create-channel-dialog")
		if id := eval[string](e, `document.activeElement.id`); id != "create-channel" {
			t.Errorf("after Escape focus is on %q, want create-channel", id)
		}

	})
	// What the steps pass on to the ones after them.
	var (
		arn, id, streamKey, wantURL string
		ch                          *ivstypes.Channel
		chARN                       playkey.ARN
	)
	e.step(t, "create a private channel", func(t *testing.T) {
		e.click("#create-channel")
		e.visible("#create-channel-dialog[open] #channel-name")
		e.typeInto("#channel-name", "private-show")
		e.click("#channel-authorized")
		// No playback key in the region yet: a private channel could not play.
		e.waitText("#channel-keys-note", "This region has no playback keys")
		e.click("#channel-latency-NORMAL")
		e.click("#channel-type-ADVANCED_HD")
		e.visible("#channel-preset")
		e.setValue("#channel-preset", "CONSTRAINED_BANDWIDTH_DELIVERY")
		e.waitFor("the policies", `!document.querySelector('#channel-policy').disabled && document.querySelector('#channel-policy').options.length === 3`)
		e.setValue("#channel-policy", doomedARN)
		e.click("#create-channel-dialog .add-tag")
		e.typeInto("#create-channel-dialog .tag-row:nth-child(1) .tag-key", "env")
		e.typeInto("#create-channel-dialog .tag-row:nth-child(1) .tag-value", "test")
		e.shot("channel-create-dialog")
		// Another client deletes the chosen policy: the server's refusal is shown in words.
		if _, err := e.sdk.DeletePlaybackRestrictionPolicy(ctx, &ivs.DeletePlaybackRestrictionPolicyInput{Arn: aws.String(doomedARN)}); err != nil {
			t.Fatal(err)
		}
		e.click("#create-channel-submit")
		code, text := e.errorCode("#create-channel-status")
		if code != "ResourceNotFoundException" || !strings.Contains(text, "does not exist") {
			t.Errorf("creating with a deleted policy: shown %s %q, want ResourceNotFoundException in words", code, text)
		}
		e.shot("channel-create-error")
		e.setValue("#channel-policy", geoARN)
		e.click("#create-channel-submit")
		e.visible("#created-stream-key")
		arn = e.text("#created-channel-arn")
		if !regexp.MustCompile(`^arn:aws:ivs:us-west-2:111111111111:channel/[a-zA-Z0-9]{12}$`).MatchString(arn) {
			t.Fatalf("created channel ARN %q", arn)
		}
		id = arn[strings.LastIndex(arn, "/")+1:]
		got, err := e.sdk.GetChannel(ctx, &ivs.GetChannelInput{Arn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		ch = got.Channel
		if !ch.Authorized || aws.ToString(ch.Name) != "private-show" || ch.LatencyMode != ivstypes.ChannelLatencyModeNormalLatency ||
			ch.Type != ivstypes.ChannelTypeAdvancedHDChannelType || ch.Preset != ivstypes.TranscodePresetConstrainedBandwidthTranscodePreset ||
			aws.ToString(ch.PlaybackRestrictionPolicyArn) != geoARN || ch.Tags["env"] != "test" || len(ch.Tags) != 1 {
			t.Errorf("the server has the channel as authorized=%v name=%q latency=%s type=%s preset=%s policy=%q tags=%v",
				ch.Authorized, aws.ToString(ch.Name), ch.LatencyMode, ch.Type, ch.Preset, aws.ToString(ch.PlaybackRestrictionPolicyArn), ch.Tags)
		}
		keys, err := e.sdk.ListStreamKeys(ctx, &ivs.ListStreamKeysInput{ChannelArn: aws.String(arn)})
		if err != nil || len(keys.StreamKeys) != 1 {
			t.Fatalf("ListStreamKeys: %v, %d keys", err, len(keys.StreamKeys))
		}
		sk, err := e.sdk.GetStreamKey(ctx, &ivs.GetStreamKeyInput{Arn: keys.StreamKeys[0].Arn})
		if err != nil {
			t.Fatal(err)
		}
		streamKey = aws.ToString(sk.StreamKey.Value)
		if got := e.text("#created-stream-key"); got != streamKey || !strings.HasPrefix(got, "sk_us-west-2_") {
			t.Errorf("the stream key shown is %q, the server's %q", got, streamKey)
		}
		if got, want := e.text("#created-ingest-server"), "rtmps://"+aws.ToString(ch.IngestEndpoint)+":443/app/"; got != want {
			t.Errorf("ingest server shown %q, want %q", got, want)
		}
		e.waitText("#create-channel-dialog", "Where the broadcast goes.")
		e.click("#copy-created-stream-key")
		e.waitText("#copy-created-stream-key", "Copied")
		if got := e.clipboard(); got != streamKey {
			t.Errorf("the clipboard holds %q after copying the stream key", got)
		}
		e.shot("channel-stream-key")
		// The list behind the dialog shows the new channel; the form sent authorized itself.
		creates := e.rec.find("POST", "/CreateChannel")
		var sent map[string]any
		if err := json.Unmarshal(creates[len(creates)-1].body, &sent); err != nil || sent["authorized"] != true {
			t.Errorf("CreateChannel was sent %s", creates[len(creates)-1].body)
		}

	})
	e.step(t, "details", func(t *testing.T) {
		e.click("#create-channel-view")
		e.gone("#create-channel-dialog")
		e.waitText("#channel-heading", "private-show")
		if loc := eval[string](e, `location.hash`); loc != "#/channels/"+id {
			t.Errorf("View channel led to %s", loc)
		}
		wantURL = aws.ToString(ch.PlaybackUrl)
		if !strings.HasPrefix(wantURL, playbackURL+"/api/video/v1/us-west-2.111111111111.channel."+id) {
			t.Errorf("the API's playback URL is %q", wantURL)
		}
		if got := e.text("#channel-playback-url"); got != wantURL {
			t.Errorf("playback URL shown %q, the API's is %q", got, wantURL)
		}
		if v := run(e, chromedp.AttributeValue(chromedp.CSS("#channel-authorization .badge"), "data-authorized")).Value; v != "true" {
			t.Errorf("the details show authorized=%s", v)
		}
		for sel, want := range map[string]string{
			"#channel-type-value":    "ADVANCED_HD",
			"#channel-latency-value": "NORMAL",
			"#channel-preset-value":  "CONSTRAINED_BANDWIDTH_DELIVERY",
		} {
			if got := run(e, chromedp.AttributeValue(chromedp.CSS(sel), "data-value")).Value; got != want {
				t.Errorf("%s is %q, want %q", sel, got, want)
			}
		}
		e.waitText("#channel-policy-value", "us-only")
		e.waitText("#channel-tag-list", "env = test")
		e.waitText("#channel-playback", "This region has no playback keys")
		// The stream key is masked until shown.
		if got := e.text("#channel-stream-key"); strings.Contains(got, streamKey) {
			t.Error("the stream key is shown before Show is pressed")
		}
		e.click("#show-stream-key")
		e.waitText("#channel-stream-key", streamKey)
		e.click("#show-stream-key")
		e.click("#copy-playback-url")
		e.waitText("#copy-playback-url", "Copied")
		if got := e.clipboard(); got != wantURL {
			t.Errorf("the clipboard holds %q after copying the playback URL", got)
		}
		e.shot("channel-details")

	})
	e.step(t, "make it public, then private again", func(t *testing.T) {
		e.click("#toggle-authorization")
		e.visible("#authorization-dialog[open]")
		e.waitText("#authorization-dialog", "Anyone with the playback URL")
		e.shot("channel-make-public")
		e.click("#authorization-submit")
		e.gone("#authorization-dialog")
		e.visible(`#channel-authorization .badge[data-authorized="false"]`)
		e.waitText("#channel-status", "is now public")
		if id := eval[string](e, `document.activeElement.id`); id != "toggle-authorization" {
			t.Errorf("after the change focus is on %q, want toggle-authorization", id)
		}
		if got, err := e.sdk.GetChannel(ctx, &ivs.GetChannelInput{Arn: aws.String(arn)}); err != nil || got.Channel.Authorized {
			t.Errorf("after Make public the server has authorized=%v (%v)", got != nil && got.Channel.Authorized, err)
		}
		updates := e.rec.find("POST", "/UpdateChannel")
		if len(updates) != 1 || !bytes.Contains(updates[0].body, []byte(`"authorized":false`)) {
			t.Errorf("UpdateChannel was sent %q; it must carry authorized:false", updates[0].body)
		}
		e.click("#toggle-authorization")
		e.visible("#authorization-dialog[open]")
		e.click("#authorization-submit")
		e.gone("#authorization-dialog")
		e.visible(`#channel-authorization .badge[data-authorized="true"]`)
		if got, err := e.sdk.GetChannel(ctx, &ivs.GetChannelInput{Arn: aws.String(arn)}); err != nil || !got.Channel.Authorized {
			t.Errorf("after Make private the server has authorized=false (%v)", err)
		}

	})
	e.step(t, "revoke a viewer's sessions", func(t *testing.T) {
		var err error
		chARN, err = playkey.ParseARN("arn", arn)
		if err != nil {
			t.Fatal(err)
		}
		before := len(e.rec.find("POST", "/StartViewerSessionRevocation"))
		e.click("#revoke-submit")
		e.waitText("#revoke-status", "Enter the viewer ID")
		e.setValue("#revoke-viewer-id", strings.Repeat("v", 41))
		e.click("#revoke-submit")
		e.waitText("#revoke-status", "at most 40 characters")
		e.setValue("#revoke-viewer-id", "viewer-7")
		e.setValue("#revoke-version", "-1")
		e.click("#revoke-submit")
		e.waitText("#revoke-status", "whole number from 0 to 2147483647")
		if n := len(e.rec.find("POST", "/StartViewerSessionRevocation")); n != before {
			t.Errorf("%d revocations sent for invalid input", n-before)
		}
		e.setValue("#revoke-version", "3")
		e.click("#revoke-submit")
		e.visible("#revoke-done")
		e.waitText("#revoke-done", "Sessions of viewer viewer-7 revoked")
		if v, ok, err := e.store().ViewerRevocation(ctx, chARN, "viewer-7"); err != nil || !ok || v != 3 {
			t.Errorf("the store has the revocation of viewer-7 as %d, %v, %v; want 3", v, ok, err)
		}
		e.do(chromedp.ScrollIntoView(chromedp.CSS("#channel-revoke")))
		e.shot("channel-revoked")

	})
	e.step(t, "tags", func(t *testing.T) {
		e.click("#manage-channel-tags")
		e.visible("#tags-dialog .tag-row .tag-key")
		e.click("#tags-dialog .add-tag")
		e.typeInto("#tags-dialog .tag-row:nth-child(2) .tag-key", "team")
		e.typeInto("#tags-dialog .tag-row:nth-child(2) .tag-value", "live")
		e.click("#tags-submit")
		e.gone("#tags-dialog")
		e.waitText("#channel-tag-list", "team = live")
		if tags, err := e.sdk.ListTagsForResource(ctx, &ivs.ListTagsForResourceInput{ResourceArn: aws.String(arn)}); err != nil ||
			len(tags.Tags) != 2 || tags.Tags["team"] != "live" {
			t.Errorf("the server has tags %v (%v)", tags.Tags, err)
		}

	})
	e.step(t, "test a token for this channel", func(t *testing.T) {
		e.click("#test-token-link")
		e.visible("#gen-channel")
		for _, sel := range []string{"#gen-channel", "#token-channel"} {
			if got := eval[string](e, fmt.Sprintf(`document.querySelector(%q).value`, sel)); got != arn {
				t.Errorf("%s holds %q, want the channel ARN", sel, got)
			}
		}
		e.do(chromedp.NavigateBack())
		e.waitText("#channel-heading", "private-show")

	})
	e.step(t, "paging", func(t *testing.T) {
		e.click(`.breadcrumbs a[href="#/channels"]`)
		e.waitText("#channels-count", "(10+)")
		page1 := e.rowsARNs()
		e.click("#channels-next")
		e.waitText("#channels-page", "Page 2")
		e.waitText("#channels-count", "(11)")
		page2 := e.rowsARNs()
		if len(page1) != 10 || len(page2) != 1 || !eval[bool](e, `document.querySelector('#channels-next').disabled`) {
			t.Errorf("pages of %d and %d channels", len(page1), len(page2))
		}
		all, err := e.sdk.ListChannels(ctx, &ivs.ListChannelsInput{})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, c := range all.Channels {
			want[aws.ToString(c.Arn)] = true
		}
		for _, a := range append(page1, page2...) {
			if !want[a] {
				t.Errorf("the pages show %s, which the server does not list, or twice", a)
			}
			delete(want, a)
		}
		if len(want) != 0 {
			t.Errorf("the pages miss %v", want)
		}
		e.click("#channels-prev")
		e.waitText("#channels-page", "Page 1")
		e.waitFor("page 1 again", `document.querySelectorAll('#channels tbody tr').length === 10`)

	})
	e.step(t, "a link to a channel works in a fresh page", func(t *testing.T) {
		e.do(chromedp.Navigate(e.url + "/console/#/channels/" + id))
		e.waitText("#channel-heading", "private-show")
		e.waitText("#channel-playback-url", wantURL)

	})
	e.step(t, "narrow window", func(t *testing.T) {
		e.do(chromedp.EmulateViewport(360, 760))
		e.waitText("#channel-heading", "private-show")
		checkNoHorizontalScroll(t, e, "channel details")
		e.shot("channel-details-narrow")
		e.do(chromedp.Evaluate[chromedp.Void](`location.hash = '#/channels'`))
		e.waitFor("the rows", `document.querySelectorAll('#channels tbody tr').length === 10`)
		checkNoHorizontalScroll(t, e, "channels list")
		e.shot("channels-narrow")
		e.click("#create-channel")
		e.visible("#create-channel-dialog[open]")
		if right := eval[float64](e, `document.querySelector('#create-channel-dialog').getBoundingClientRect().right`); right > 360 {
			t.Errorf("the Create channel dialog reaches x=%v on a 360 px window", right)
		}
		e.click("#create-channel-cancel")
		e.gone("#create-channel-dialog")
		e.do(chromedp.EmulateViewport(1280, 900))

	})
	e.step(t, "delete with confirmation", func(t *testing.T) {
		e.do(chromedp.Evaluate[chromedp.Void](`location.hash = '#/channels/` + id + `'`))
		e.waitText("#channel-heading", "private-show")
		e.click("#delete-channel")
		e.visible("#delete-channel-dialog[open] #delete-channel-confirm")
		e.typeInto("#delete-channel-confirm", "private-sho")
		if !eval[bool](e, `document.querySelector('#delete-channel-submit').disabled`) {
			t.Error("Delete is enabled with part of the name typed")
		}
		e.typeInto("#delete-channel-confirm", "w")
		e.waitFor("Delete enabled", `!document.querySelector('#delete-channel-submit').disabled`)
		e.shot("channel-delete")
		e.click("#delete-channel-submit")
		e.gone("#delete-channel-dialog")
		e.waitText("#channels-status", "Channel private-show deleted")
		if loc := eval[string](e, `location.hash`); loc != "#/channels" {
			t.Errorf("after Delete the page is %s", loc)
		}
		var nf *ivstypes.ResourceNotFoundException
		if _, err := e.sdk.GetChannel(ctx, &ivs.GetChannelInput{Arn: aws.String(arn)}); !errors.As(err, &nf) {
			t.Errorf("GetChannel after Delete: %v, want ResourceNotFoundException", err)
		}
		// Revocations outlive their channel: a gate started later must still refuse the viewer.
		if _, ok, err := e.store().ViewerRevocation(ctx, chARN, "viewer-7"); err != nil || !ok {
			t.Errorf("the revocation went with its channel (%v)", err)
		}
		e.do(chromedp.Evaluate[chromedp.Void](`location.hash = '#/channels/` + id + `'`))
		e.waitText("#channel-heading", "Channel not found")
		e.waitText("#channel-details", "There is no channel "+id)

	})
	e.step(t, "what the server received", func(t *testing.T) {
		e.checkRequests()
		// The only API error the page met is the one provoked on purpose.
		for _, x := range e.rec.requests() {
			if strings.Contains(x.header.Get("User-Agent"), "aws-sdk-go") {
				continue
			}
			if x.status >= 400 && !(x.path == "/CreateChannel" && x.status == http.StatusNotFound) {
				t.Errorf("%s %s answered %d: %s", x.method, x.path, x.status, x.response)
			}
		}
		e.checkBrowser()
	})
}
