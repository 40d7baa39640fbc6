// Package rules scores contacts with a marketer's manual points rules, HubSpot style, read from a YAML file.
package rules
