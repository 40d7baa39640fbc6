// Package metrics judges binary scores against outcomes: ranking, probability and calibration measures for a holdout.
package metrics
