#!/usr/bin/python3
"""Confluent's own Avro clients (python3-confluent-kafka) against Flowsight's topics, for tests.

  confluent_client.py produce BOOTSTRAP REGISTRY TOPIC SCHEMA_FILE FLOWS_JSON
      Produces one FlowRecord per flow of FLOWS_JSON (a JSON list of
      {observerId, localIp, localPort, remoteIp, remotePort, side, servicePort, start, end,
       bytesSent, bytesReceived, app}; times in epoch ms) through Confluent's Avro serializer: the
      schema registered by Confluent's client, the wire format written by it, keyed by the local
      IP's text and partitioned with murmur2 as Java's producer does. Prints the count.
  confluent_client.py consume BOOTSTRAP REGISTRY TOPIC COUNT
      Reads COUNT records from the beginning, the values through Confluent's Avro deserializer
      (MessageSerializer with its registry client), and prints each as one
      JSON line (bytes as dotted text for the IPs, times as epoch ms).
"""

import datetime as dt
import ipaddress
import json
import sys

from confluent_kafka import Consumer, Producer, avro
from confluent_kafka.avro import CachedSchemaRegistryClient
from confluent_kafka.avro.serializer.message_serializer import MessageSerializer

UTC = dt.timezone.utc


def at(ms):
    return dt.datetime.fromtimestamp(ms / 1000, UTC)


def produce(bootstrap, registry, topic, schema_file, flows_file):
    with open(schema_file) as f:
        schema = avro.loads(f.read())
    with open(flows_file) as f:
        flows = json.load(f)
    # The value through Confluent's serializer (it registers the schema under <topic>-value); the
    # key is the local IP's text, as the sidecar writes it.
    values = MessageSerializer(CachedSchemaRegistryClient({"url": registry}))
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            # Java's default partitioner: the collector finds an IP's records where its key maps.
            "partitioner": "murmur2_random",
        }
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
            "connectLatencyMicros": None,
            "pid": None,
            "processName": None,
            "cgroupId": None,
            "containerId": None,
            # Python's Avro writer does not fill in defaults: every field is given.
            "localIdentity": {
                "app": fl["app"],
                "cluster": None,
                "namespace": None,
                "workloadKind": None,
                "workloadName": None,
                "instanceId": None,
                "node": None,
                "zone": None,
                "region": None,
                "account": None,
                "labels": {},
            },
            "partial": False,
        }
        # The flow's end as the Kafka timestamp, as the sidecar sets it.
        value = values.encode_record_with_schema(topic, schema, record)
        producer.produce(topic=topic, key=fl["localIp"].encode(), value=value, timestamp=fl["end"])
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
    # The value through Confluent's deserializer; the key is the local IP's text, not Avro.
    values = MessageSerializer(CachedSchemaRegistryClient({"url": registry}))
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
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
        print(json.dumps(plain(values.decode_message(msg.value())), sort_keys=True))
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
