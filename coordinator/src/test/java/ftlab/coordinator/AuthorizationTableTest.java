package ftlab.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.proto.CoordinatorAdminGrpc;
import ftlab.proto.CoordinatorGrpc;
import ftlab.proto.MembershipGrpc;
import ftlab.proto.NodeAdminGrpc;
import ftlab.proto.WorkerGrpc;
import ftlab.security.Authorization;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The authorization table ({@link Authorization}) has a line for every RPC of ftlab's services, as
 * the .proto files define them: a method added to a .proto without a line is closed to everyone,
 * and this test says which one it is.
 */
class AuthorizationTableTest {
  @Test
  void everyFtlabMethodHasALine() {
    List<String> missing = new ArrayList<>();
    int methods = 0;
    for (ServiceDescriptor service :
        List.of(
            CoordinatorGrpc.getServiceDescriptor(),
            CoordinatorAdminGrpc.getServiceDescriptor(),
            MembershipGrpc.getServiceDescriptor(),
            WorkerGrpc.getServiceDescriptor(),
            NodeAdminGrpc.getServiceDescriptor())) {
      for (MethodDescriptor<?, ?> method : service.getMethods()) {
        methods++;
        if (!Authorization.TABLE.containsKey(method.getFullMethodName())) {
          missing.add(method.getFullMethodName());
        }
      }
    }
    assertThat(methods).isEqualTo(12);
    assertThat(missing).as("methods with no line in Authorization.TABLE").isEmpty();
  }
}
