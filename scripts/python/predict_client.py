#!/usr/bin/env python3
"""Score one contact with a leadscore server from Python, with nothing but grpcio and protobuf.

Debian ships python3-grpcio and python3-protobuf but not grpc_tools, so there is no generated
leadscore_pb2 module: the message classes are built at run time from a serialized
FileDescriptorSet of proto/leadscore/v1/leadscore.proto and its imports (the serve package's tests
write one; `buf build -o leadscore.binpb` makes one too). The request is built here, in Python.

usage: predict_client.py DESCRIPTORS ADDR MODEL CONTACT_JSON [AS_OF]

CONTACT_JSON is a flat JSON object of properties, as for `leadscore predict --contact`: strings,
numbers, booleans, null (missing), and {"timestamp": "2025-01-31T12:00:00Z"} for a timestamp. Its
"contact_id" or "id" string is also sent as the contact's id. AS_OF is an RFC 3339 time.

Prints the PredictResponse as JSON with the proto field names. On a gRPC error prints
"CODE: details" on stderr and exits with status 3.
"""
import json
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory


def message_classes(path, *names):
    """Returns the message classes of the fully qualified names, from a FileDescriptorSet file."""
    files = descriptor_pb2.FileDescriptorSet()
    with open(path, "rb") as f:
        files.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in files.file:  # dependencies come first in the set
        pool.Add(fd)
    classes = []
    for name in names:
        desc = pool.FindMessageTypeByName(name)
        if hasattr(message_factory, "GetMessageClass"):  # protobuf >= 4.24
            classes.append(message_factory.GetMessageClass(desc))
        else:
            classes.append(message_factory.MessageFactory(pool).GetPrototype(desc))
    return classes


def build_request(request_class, model, contact, as_of):
    req = request_class(model=model)
    for name, v in contact.items():
        if v is None:
            continue
        value = req.contact.properties[name]
        if isinstance(v, bool):  # before int: bool is an int in Python
            value.bool_value = v
        elif isinstance(v, (int, float)):
            value.number_value = float(v)
        elif isinstance(v, str):
            value.string_value = v
            if name in ("contact_id", "id") and not req.contact.id:
                req.contact.id = v
        elif isinstance(v, dict) and set(v) == {"timestamp"}:
            value.timestamp_value.FromJsonString(v["timestamp"])
        else:
            raise SystemExit(f"predict_client: property {name!r}: want a string, number, boolean, null or {{\"timestamp\": ...}}")
    if as_of:
        req.as_of.FromJsonString(as_of)
    return req


def main(argv):
    if len(argv) not in (5, 6):
        raise SystemExit(__doc__)
    descriptors, addr, model, contact_json = argv[1:5]
    as_of = argv[5] if len(argv) == 6 else ""
    request_class, response_class = message_classes(
        descriptors, "leadscore.v1.PredictRequest", "leadscore.v1.PredictResponse")
    req = build_request(request_class, model, json.loads(contact_json), as_of)
    # No proxy: leadscore listens on loopback, and grpc would otherwise honour http_proxy.
    with grpc.insecure_channel(addr, options=[("grpc.enable_http_proxy", 0)]) as channel:
        predict = channel.unary_unary(
            "/leadscore.v1.LeadScoring/Predict",
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString,
        )
        try:
            resp = predict(req, timeout=10)
        except grpc.RpcError as err:
            print(f"{err.code().name}: {err.details()}", file=sys.stderr)
            return 3
    print(json_format.MessageToJson(resp, preserving_proto_field_name=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
