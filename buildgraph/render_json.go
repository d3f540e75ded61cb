package buildgraph

import (
	"encoding/json"
	"io"
)

// SchemaVersion is the version of the JSON document WriteJSON writes,
// documented in docs/graph-json.md. It changes only when a field changes
// meaning or disappears; new fields may appear in the same version.
const SchemaVersion = 1

// The JSON document; see docs/graph-json.md.
type (
	jsonGraph struct {
		SchemaVersion int           `json:"schemaVersion"`
		File          string        `json:"file"`
		Syntax        string        `json:"syntax,omitempty"`
		Escape        string        `json:"escape"`
		Platform      string        `json:"platform"`
		BuildPlatform string        `json:"buildPlatform"`
		DefaultTarget string        `json:"defaultTarget"`
		Args          []jsonArg     `json:"args"`
		Targets       []jsonTarget  `json:"targets"`
		Stages        []jsonStage   `json:"stages"`
		Images        []jsonImage   `json:"images"`
		Edges         []jsonEdge    `json:"edges"`
		Closure       jsonClosure   `json:"closure"`
		Levels        [][]int       `json:"levels"`
		Warnings      []jsonWarning `json:"warnings"`
		LintError     *jsonError    `json:"lintError,omitempty"`
		// With several platforms (graph --platform a,b): the graph above is
		// the first platform's, these are every platform's.
		Platforms      []jsonPlatform      `json:"platforms,omitempty"`
		PlatformStages []jsonPlatformStage `json:"platformStages,omitempty"`
	}
	jsonArg struct {
		Name         string  `json:"name"`
		Value        *string `json:"value"`
		FromBuildArg bool    `json:"fromBuildArg"`
		Line         int     `json:"line"`
	}
	jsonTarget struct {
		Name        string `json:"name"`
		Stage       int    `json:"stage"`
		Description string `json:"description"`
		Default     bool   `json:"default"`
	}
	jsonStage struct {
		Index        int               `json:"index"`
		Name         string            `json:"name"`
		Named        bool              `json:"named"`
		ProgressName string            `json:"progressName"`
		Base         jsonBase          `json:"base"`
		PlatformFlag string            `json:"platformFlag,omitempty"`
		Platform     string            `json:"platform"`
		Context      *jsonContext      `json:"context,omitempty"`
		StartLine    int               `json:"startLine"`
		EndLine      int               `json:"endLine"`
		Doc          string            `json:"doc,omitempty"`
		Instructions []jsonInstruction `json:"instructions"`
	}
	jsonBase struct {
		Kind  BaseKind `json:"kind"`
		Raw   string   `json:"raw"`
		Ref   string   `json:"ref"`
		Stage *int     `json:"stage,omitempty"`
		Image *int     `json:"image,omitempty"`
	}
	jsonContext struct {
		Key   string `json:"key"`
		Value string `json:"value"`
		Kind  string `json:"kind"`
	}
	jsonInstruction struct {
		Keyword   string `json:"keyword"`
		Text      string `json:"text"`
		StartLine int    `json:"startLine"`
		EndLine   int    `json:"endLine"`
	}
	jsonImage struct {
		Index      int          `json:"index"`
		Ref        string       `json:"ref"`
		Normalized string       `json:"normalized"`
		Context    *jsonContext `json:"context,omitempty"`
	}
	jsonNode struct {
		Kind  NodeKind `json:"kind"`
		Index int      `json:"index"`
	}
	jsonEdge struct {
		From      jsonNode `json:"from"`
		To        int      `json:"to"`
		Kind      EdgeKind `json:"kind"`
		Ref       string   `json:"ref"`
		Line      int      `json:"line"`
		MountType string   `json:"mountType,omitempty"`
	}
	jsonClosure struct {
		Target     int    `json:"target"`
		TargetName string `json:"targetName"`
		Stages     []int  `json:"stages"`
		Replaced   []int  `json:"replaced"`
		Skipped    []int  `json:"skipped"`
		Images     []int  `json:"images"`
		Edges      []int  `json:"edges"`
	}
	jsonWarning struct {
		Rule        string `json:"rule"`
		Message     string `json:"message"`
		Description string `json:"description"`
		URL         string `json:"url"`
		Line        int    `json:"line"`
		EndLine     int    `json:"endLine"`
		Stage       int    `json:"stage"`
	}
	jsonError struct {
		Message string `json:"message"`
		Line    int    `json:"line"`
	}
)

// WriteJSON writes g as one indented JSON document with "schemaVersion": 1,
// described in docs/graph-json.md.
func WriteJSON(w io.Writer, g *Graph, opts RenderOptions) error {
	doc, err := jsonDocument(g, opts)
	if err != nil {
		return err
	}
	return encodeJSON(w, doc)
}

func encodeJSON(w io.Writer, doc any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// jsonDocument is the document WriteJSON writes for g.
func jsonDocument(g *Graph, opts RenderOptions) (*jsonGraph, error) {
	v, err := newView(g, opts)
	if err != nil {
		return nil, err
	}
	g = v.g
	doc := jsonGraph{
		SchemaVersion: SchemaVersion,
		File:          g.File,
		Syntax:        g.Syntax,
		Escape:        string(g.EscapeToken),
		Platform:      g.Platform,
		BuildPlatform: g.BuildPlatform,
		DefaultTarget: g.DefaultTarget,
		Args:          []jsonArg{},
		Targets:       []jsonTarget{},
		Stages:        []jsonStage{},
		Images:        []jsonImage{},
		Edges:         []jsonEdge{},
		Closure: jsonClosure{
			Target:     v.c.Target,
			TargetName: v.targetName(),
			Stages:     nonNil(v.c.Stages),
			Replaced:   nonNil(v.c.Replaced),
			Skipped:    nonNil(v.c.Skipped),
			Images:     nonNil(v.c.Images),
			Edges:      nonNil(v.c.Edges),
		},
		Levels:   v.c.Levels(),
		Warnings: []jsonWarning{},
	}
	for _, a := range g.Args {
		ja := jsonArg{Name: a.Name, FromBuildArg: a.FromBuildArg, Line: a.Line}
		if a.HasValue {
			// A value given with --build-arg is the user's: one named like
			// a secret's is not printed (the Dockerfile's own defaults are
			// in the file already).
			v := a.Value
			if a.FromBuildArg {
				v = RedactArg(a.Name, v)
			}
			ja.Value = &v
		}
		doc.Args = append(doc.Args, ja)
	}
	for _, t := range g.Targets() {
		doc.Targets = append(doc.Targets, jsonTarget(t))
	}
	for _, s := range g.Stages {
		js := jsonStage{
			Index:        s.Index,
			Name:         s.Name,
			Named:        s.Named,
			ProgressName: s.ProgressName,
			Base:         jsonBase{Kind: s.Base.Kind, Raw: s.Base.Raw, Ref: s.Base.Ref},
			PlatformFlag: s.PlatformFlag,
			Platform:     s.Platform,
			Context:      jsonCtx(s.Context),
			StartLine:    s.StartLine,
			EndLine:      s.EndLine,
			Doc:          s.Doc,
			Instructions: []jsonInstruction{},
		}
		if s.Base.Stage >= 0 {
			js.Base.Stage = &s.Base.Stage
		}
		if s.Base.Image >= 0 {
			js.Base.Image = &s.Base.Image
		}
		for _, in := range s.Instructions {
			js.Instructions = append(js.Instructions, jsonInstruction{Keyword: in.Keyword, Text: in.Text, StartLine: in.StartLine, EndLine: in.EndLine})
		}
		doc.Stages = append(doc.Stages, js)
	}
	for _, im := range g.Images {
		doc.Images = append(doc.Images, jsonImage{Index: im.Index, Ref: im.Ref, Normalized: im.Normalized, Context: jsonCtx(im.Context)})
	}
	for _, e := range g.Edges {
		doc.Edges = append(doc.Edges, jsonEdge{From: jsonNode(e.From), To: e.To, Kind: e.Kind, Ref: e.Ref, Line: e.Line, MountType: e.MountType})
	}
	for _, wr := range g.Warnings {
		doc.Warnings = append(doc.Warnings, jsonWarning(wr))
	}
	if g.LintError != nil {
		doc.LintError = &jsonError{Message: g.LintError.Msg, Line: g.LintError.Line}
	}
	return &doc, nil
}

func jsonCtx(c *NamedContext) *jsonContext {
	if c == nil {
		return nil
	}
	return &jsonContext{Key: c.Key, Value: c.Value, Kind: c.Kind()}
}

// nonNil makes empty lists encode as [] rather than null.
func nonNil(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}
