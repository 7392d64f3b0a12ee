import AdminService
import Dispatch
import Glibc
import ServerCore

/// Starts what feeds the admin listener in this process, once it serves: with
/// --single-process the reports go straight to the listener's hub; a supervised service
/// child sends its own to the admin child; the admin child hears them. Returns what must
/// live as long as the process (nil: nothing to do, the admin listener is off).
enum Admin {
    static func start(plan: ServicePlan, settings: Settings, registry: ListenerRegistry, observability: Observability,
                      supervisor: pid_t?) -> AnyObject? {
        guard settings.adminListen != nil else { return nil }
        if let supervisor {
            if let hub = plan.hub {
                guard let source = AdminChannel.listen(supervisor: supervisor, hub: hub) else {
                    fail("cannot listen for the services' reports on @\(AdminChannel.name(supervisor: supervisor)): \(errorText(errno))")
                }
                return source as AnyObject
            }
            return AdminReporter(services: settings.services, registry: registry, observability: observability, zones: plan.zones,
                                 withMetrics: true) { AdminChannel.send($0, supervisor: supervisor) }.start() as AnyObject
        }
        guard let hub = plan.hub else { return nil }
        return AdminReporter(services: settings.services, registry: registry, observability: observability, zones: plan.zones,
                             withMetrics: false) { hub.update($0) }.start() as AnyObject
    }
}
