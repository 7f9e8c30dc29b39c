package slack

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/hemostat/hemostat/sdk"
)

// Slack's limits (docs.slack.dev: Block Kit reference, chat.postMessage).
const (
	maxBlocks      = 50
	maxSectionText = 3000
	maxHeaderText  = 150
	maxFields      = 10
	maxFieldText   = 2000
	maxContextText = 2000
	// maxText is the top-level text; Slack truncates beyond 40 000 but
	// advises about 4 000.
	maxText = 4000
)

// Colours of the attachment bar, by severity.
var colours = map[string]string{
	sdk.SeverityCritical: "#d40e0d",
	sdk.SeverityWarning:  "#e8a33d",
	sdk.SeverityInfo:     "#2eb67d",
}

var icons = map[string]string{
	sdk.KindRemediationSuccess:       ":white_check_mark:",
	sdk.KindRemediationFailed:        ":x:",
	sdk.KindRemediationRejected:      ":no_entry_sign:",
	sdk.KindRemediationDeferred:      ":hourglass_flowing_sand:",
	sdk.KindRemediationSkipped:       ":fast_forward:",
	sdk.KindRemediationDryRun:        ":test_tube:",
	sdk.KindRemediationNotApplicable: ":heavy_minus_sign:",
	sdk.KindFalseAlarm:               ":zzz:",
	sdk.KindEscalationBreaker:        ":rotating_light:",
	sdk.KindEscalationRestartLoop:    ":repeat:",
	sdk.KindEscalation:               ":sos:",
	sdk.KindForeignAction:            ":twisted_rightwards_arrows:",
	sdk.KindPluginTrouble:            ":electric_plug:",
	sdk.KindRedisTrouble:             ":floppy_disk:",
	sdk.KindStorm:                    ":thunder_cloud_and_rain:",
}

// Message is one Slack message: the top-level text mobile notifications
// show, and one legacy attachment carrying the severity's colour and the
// Block Kit blocks.
type Message struct {
	Text       string           `json:"text"`
	Attachment slack.Attachment `json:"attachment"`
}

// truncate cuts s to at most n bytes on a rune boundary, with a marker.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const marker = "… (truncated)"
	cut := n - len(marker)
	for cut > 0 && !runeStart(s, cut) {
		cut--
	}
	return s[:cut] + marker
}

// runeStart reports whether s[i] starts a rune.
func runeStart(s string, i int) bool { return i >= len(s) || utf8.RuneStart(s[i]) }

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

// escape keeps text from containers and logs from being read as Slack
// markup (mentions, links).
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// render is the message for one notification.
func render(n sdk.Notification, c Config) Message {
	if n.Kind == sdk.KindStorm {
		return renderStorm(n, c)
	}
	var blocks []slack.Block
	mark := icon(n.Kind)
	if n.Status == sdk.StatusRecovered {
		mark = ":large_green_circle:"
	}
	blocks = append(blocks, slack.NewHeaderBlock(plain(truncate(mark+" "+n.Title, maxHeaderText))))
	if body := strings.TrimSpace(n.Reason); body != "" || n.Text != "" {
		if body == "" {
			body = n.Text
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(escape(body), maxSectionText)), nil, nil))
	}
	if f := fields(n); len(f) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(nil, f, nil))
	}
	if n.Error != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate("*Error*\n```"+escape(n.Error)+"```", maxSectionText)), nil, nil))
	}
	blocks = append(blocks, slack.NewContextBlock("", contextElements(n, c)...))
	return Message{Text: fallback(n), Attachment: attachment(n.Severity, fallback(n), blocks)}
}

func icon(kind string) string {
	if i, ok := icons[kind]; ok {
		return i
	}
	return ":information_source:"
}

func attachment(severity, text string, blocks []slack.Block) slack.Attachment {
	if len(blocks) > maxBlocks {
		blocks = append(blocks[:maxBlocks-1], slack.NewContextBlock("", mrkdwn(fmt.Sprintf("… %d more blocks not shown", len(blocks)-maxBlocks+1))))
	}
	colour, ok := colours[severity]
	if !ok {
		colour = colours[sdk.SeverityInfo]
	}
	return slack.Attachment{Color: colour, Fallback: text, Blocks: slack.Blocks{BlockSet: blocks}}
}

// fallback is the top-level text: what a phone's notification shows.
func fallback(n sdk.Notification) string {
	s := fmt.Sprintf("[%s] %s", n.Severity, n.Title)
	if n.Reason != "" {
		s += " — " + n.Reason
	}
	if n.Count > 1 {
		s += fmt.Sprintf(" (%d×)", n.Count)
	}
	if n.DryRun {
		s += " (dry run)"
	}
	return truncate(escape(s), maxText)
}

// fields are the facts of a notification as a section's two columns.
func fields(n sdk.Notification) []*slack.TextBlockObject {
	var out []*slack.TextBlockObject
	add := func(name, value string) {
		if value != "" && len(out) < maxFields {
			out = append(out, mrkdwn(truncate("*"+name+"*\n"+escape(value), maxFieldText)))
		}
	}
	add("Container", n.Container)
	add("Host", n.Host)
	add("Action", n.Action)
	add("Status", n.Status)
	if n.Confidence > 0 {
		add("Confidence", fmt.Sprintf("%.0f%%", n.Confidence*100))
	}
	analyzer := n.Analyzer
	if analyzer != "" && n.Fallback != "" {
		analyzer += " (fallback: " + n.Fallback + ")"
	}
	add("Decided by", analyzer)
	for _, f := range n.Figures {
		add(f.Name, f.Value)
	}
	return out
}

func contextElements(n sdk.Notification, c Config) []slack.MixedElement {
	var parts []string
	if n.DryRun {
		parts = append(parts, ":test_tube: *Dry run* — nothing was changed")
	}
	if n.Count > 1 {
		if n.FirstTime.IsZero() {
			parts = append(parts, fmt.Sprintf("%d× like this", n.Count))
		} else {
			parts = append(parts, fmt.Sprintf("%d× like this since %s", n.Count, n.FirstTime.UTC().Format("15:04:05 MST")))
		}
	}
	if !n.Time.IsZero() {
		parts = append(parts, fmt.Sprintf("<!date^%d^{date_short_pretty} {time_secs}|%s>", n.Time.Unix(), n.Time.UTC().Format(time.RFC3339)))
	}
	if c.DashboardURL != "" {
		parts = append(parts, "<"+dashboardLink(c.DashboardURL, n.Container)+"|Open in HemoStat>")
	}
	return []slack.MixedElement{mrkdwn(truncate(strings.Join(parts, "  ·  "), maxContextText))}
}

func dashboardLink(base, container string) string {
	if container == "" {
		return base
	}
	return strings.TrimRight(base, "/") + "/#container=" + strings.NewReplacer(" ", "%20", "|", "%7C", ">", "%3E").Replace(container)
}

// renderStorm is the one message a storm becomes: every incident listed,
// in as many sections as Slack allows, then a marker.
func renderStorm(n sdk.Notification, c Config) Message {
	blocks := []slack.Block{slack.NewHeaderBlock(plain(truncate(icon(n.Kind)+" "+n.Title, maxHeaderText)))}
	var counts []string
	for _, f := range n.Figures {
		counts = append(counts, fmt.Sprintf("%s %s", f.Value, strings.ReplaceAll(f.Name, "_", " ")))
	}
	if len(counts) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(strings.Join(counts, " · "), maxSectionText)), nil, nil))
	}
	// Room for the header, the counts, the list and the context.
	room := maxBlocks - len(blocks) - 2
	var section strings.Builder
	listed := 0
	for i, it := range n.Summary {
		line := "• " + escape(it.Title)
		if it.Host != "" {
			line += " _(" + escape(it.Host) + ")_"
		}
		if it.Count > 1 {
			line += fmt.Sprintf(" ×%d", it.Count)
		}
		if section.Len()+len(line)+1 > maxSectionText {
			if room == 0 {
				break
			}
			blocks = append(blocks, slack.NewSectionBlock(mrkdwn(section.String()), nil, nil))
			room--
			section.Reset()
		}
		if section.Len() > 0 {
			section.WriteByte('\n')
		}
		section.WriteString(line)
		listed = i + 1
	}
	if section.Len() > 0 && room > 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(section.String()), nil, nil))
	} else if section.Len() > 0 {
		listed -= strings.Count(section.String(), "\n") + 1
	}
	if rest := len(n.Summary) - listed; rest > 0 {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("… and %d more; the dashboard and the event log have them all", rest))))
	}
	blocks = append(blocks, slack.NewContextBlock("", contextElements(sdk.Notification{Time: n.Time}, c)...))
	text := truncate(fmt.Sprintf("[%s] %s", n.Severity, escape(n.Title)), maxText)
	return Message{Text: text, Attachment: attachment(n.Severity, text, blocks)}
}
