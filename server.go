// Command originhub runs the OriginHub platform; see README.md.
package main

func main() {}
