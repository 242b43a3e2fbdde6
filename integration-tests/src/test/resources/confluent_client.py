#!/usr/bin/python3
"""Confluent's own Avro clients (python3-confluent-kafka) against Flowsight's topics, for tests.

  confluent_client.py produce BOOTSTRAP REGISTRY TOPIC SCHEMA_FILE FLOWS_JSON
      Produces one FlowRecord per flow of FLOWS_JSON (a JSON list of
      {observerId, localIp, localPort, remoteIp, remotePort, side, servicePort, start, end,
       bytesSent, bytesReceived, app}; times in epoch ms) with Confluent's AvroProducer: the schema
      registered by Confluent's client, the Confluent wire format written by it, keyed by the local
      IP's text and partitioned with murmur2 as Java's producer does. Prints the count.
  confluent_client.py consume BOOTSTRAP REGISTRY TOPIC COUNT
      Reads COUNT records from the beginning with Confluent's AvroConsumer and prints each as one
      JSON line (bytes as dotted text for the IPs, times as epoch ms).
"""

import datetime as dt
import ipaddress
import json
import sys

from confluent_kafka import avro
from confluent_kafka.avro import AvroConsumer, AvroProducer

UTC = dt.timezone.utc


def at(ms):
    return dt.datetime.fromtimestamp(ms / 1000, UTC)


def produce(bootstrap, registry, topic, schema_file, flows_file):
    with open(schema_file) as f:
        schema = avro.loads(f.read())
    with open(flows_file) as f:
        flows = json.load(f)
    producer = AvroProducer(
        {
            "bootstrap.servers": bootstrap,
            "schema.registry.url": registry,
            # Java's default partitioner: the collector finds an IP's records where its key maps.
            "partitioner": "murmur2_random",
        },
        default_value_schema=schema,
    )
    for seq, fl in enumerate(flows):
        record = {
            "observerId": fl["observerId"],
            "sidecarRunId": "confluent-" + fl["observerId"],
            "sequence": seq,
            "kind": "CLOSED",
            "protocol": "TCP",
            "addressFamily": "IPV4",
            "localIp": ipaddress.ip_address(fl["localIp"]).packed,
            "localPort": fl["localPort"],
            "remoteIp": ipaddress.ip_address(fl["remoteIp"]).packed,
            "remotePort": fl["remotePort"],
            "side": fl["side"],
            "servicePort": fl["servicePort"],
            "connectionStartTime": at(fl["start"]),
            "startTime": at(fl["start"]),
            "endTime": at(fl["end"]),
            "bytesSent": fl["bytesSent"],
            "bytesReceived": fl["bytesReceived"],
            "segmentsSent": 2,
            "segmentsReceived": 2,
            "retransmits": 0,
            "srttMicros": 100,
            "rttVarMicros": 50,
            "congestionWindow": 10,
            "localIdentity": {"app": fl["app"], "labels": {}},
        }
        # The flow's end as the Kafka timestamp, as the sidecar sets it.
        producer.produce(topic=topic, key=fl["localIp"].encode(), value=record, timestamp=fl["end"])
    left = producer.flush(30)
    if left:
        sys.exit("confluent_client: %d records not delivered" % left)
    print(len(flows))


def plain(value):
    if isinstance(value, bytes):
        return str(ipaddress.ip_address(value))
    if isinstance(value, dt.datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def consume(bootstrap, registry, topic, count):
    consumer = AvroConsumer(
        {
            "bootstrap.servers": bootstrap,
            "schema.registry.url": registry,
            "group.id": "confluent-client-" + topic,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    read = 0
    idle = 0
    while read < count and idle < 60:
        msg = consumer.poll(1.0)
        if msg is None:
            idle += 1
            continue
        if msg.error():
            sys.exit("confluent_client: %s" % msg.error())
        idle = 0
        print(json.dumps(plain(msg.value()), sort_keys=True))
        read += 1
    consumer.close()
    if read < count:
        sys.exit("confluent_client: read %d of %d records" % (read, count))


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "produce":
        produce(*sys.argv[2:7])
    elif len(sys.argv) == 6 and sys.argv[1] == "consume":
        consume(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        sys.exit(__doc__)
