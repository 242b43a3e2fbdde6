package io.flowsight.sidecar.sink;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Identity;
import io.flowsight.testing.SampleFlows;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FlowRecordJsonTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void shouldWriteThePodAndContainerWhenKnownAndLeaveThemOutOtherwise() throws Exception {
    FlowRecord record = new SampleFlows(7).next();
    record.setContainerId("5e1f0c7a9b3d2e4f6a8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f");
    record.setPod(
        Identity.newBuilder()
            .setApp("checkout")
            .setCluster("prod")
            .setNamespace("shop")
            .setWorkloadKind("Deployment")
            .setWorkloadName("checkout")
            .setInstanceId("checkout-7d9f5-x2kq8")
            .setNode("node-7")
            .setLabels(Map.of())
            .build());

    JsonNode named = JSON.readTree(FlowRecordJson.toJson(record));
    record.setPod(null);
    record.setContainerId(null);
    JsonNode unnamed = JSON.readTree(FlowRecordJson.toJson(record));

    assertThat(named.get("containerId").asText()).startsWith("5e1f0c7a");
    assertThat(named.get("pod").get("instanceId").asText()).isEqualTo("checkout-7d9f5-x2kq8");
    assertThat(named.get("pod").get("namespace").asText()).isEqualTo("shop");
    assertThat(named.get("pod").get("workloadKind").asText()).isEqualTo("Deployment");
    assertThat(named.get("pod").has("zone")).isFalse();
    assertThat(unnamed.has("pod")).isFalse();
    assertThat(unnamed.has("containerId")).isFalse();
  }
}
