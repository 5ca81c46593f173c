// Package v20170312 stands in for Tencent Cloud's VPC SDK, which the Go module
// proxy does not serve. flannel's main package links every backend, and only
// its tencent-vpc backend uses this SDK; CI's kind nodes run the host-gw
// backend, so this stand-in has just the names that backend compiles against,
// and every call fails.
package v20170312

import "errors"

var errUnavailable = errors.New("tencent-vpc backend: Tencent Cloud's VPC SDK is not built into this flannel")

type Client struct{}

func NewClientWithSecretId(secretID, secretKey, region string) (*Client, error) {
	return nil, errUnavailable
}

type Filter struct {
	Name   *string
	Values []*string
}

type Route struct {
	DestinationCidrBlock *string
	GatewayType          *string
	GatewayId            *string
	RouteType            *string
	RouteId              *uint64
	Enabled              *bool
}

type RouteTable struct {
	RouteTableId *string
	RouteSet     []*Route
}

type DescribeRouteTablesRequest struct{ Filters []*Filter }

type DescribeRouteTablesResponse struct {
	Response *struct{ RouteTableSet []*RouteTable }
}

type RoutesRequest struct {
	RouteTableId *string
	Routes       []*Route
}

type (
	DeleteRoutesRequest = RoutesRequest
	CreateRoutesRequest = RoutesRequest
	RoutesResponse      struct{}
)

func NewDescribeRouteTablesRequest() *DescribeRouteTablesRequest {
	return &DescribeRouteTablesRequest{}
}
func NewDeleteRoutesRequest() *DeleteRoutesRequest { return &DeleteRoutesRequest{} }
func NewCreateRoutesRequest() *CreateRoutesRequest { return &CreateRoutesRequest{} }

func (*Client) DescribeRouteTables(*DescribeRouteTablesRequest) (*DescribeRouteTablesResponse, error) {
	return nil, errUnavailable
}

func (*Client) DeleteRoutes(*DeleteRoutesRequest) (*RoutesResponse, error) {
	return nil, errUnavailable
}
func (*Client) CreateRoutes(*CreateRoutesRequest) (*RoutesResponse, error) {
	return nil, errUnavailable
}
