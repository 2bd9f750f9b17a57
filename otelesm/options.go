package otelesm

import "go.opentelemetry.io/otel/attribute"

// An Option configures a Hook. Options are applied in order by New.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// config is what the options set; defaultConfig holds every default.
type config struct {
	shardAttr bool
	mapping   string
	attrs     []attribute.KeyValue
}

func defaultConfig() config {
	return config{shardAttr: true}
}

// ShardAttribute sets whether measurements carry the shard ID as
// "esm.shard.id". Default true. A stream's shard IDs grow with every
// reshard, so turn it off when series must stay few; the totals are the
// same either way.
func ShardAttribute(on bool) Option {
	return optionFunc(func(c *config) { c.shardAttr = on })
}

// MappingName adds "esm.mapping.name" with the value name to every
// measurement, to tell mappings apart (esm.Name is a good value). Default:
// no such attribute. An empty name adds none.
func MappingName(name string) Option {
	return optionFunc(func(c *config) { c.mapping = name })
}

// Attributes adds kv to every measurement, for example the function's name
// or the stream's. Default none. Calls add up; a key given twice keeps the
// last value, and MappingName wins over a "esm.mapping.name" given here.
func Attributes(kv ...attribute.KeyValue) Option {
	return optionFunc(func(c *config) { c.attrs = append(c.attrs, kv...) })
}
