package config

// Slugify exposes slugify to the external test comparing it with
// feeds.Slugify.
var Slugify = slugify
