import ServerCore

/// The listening sockets of a run: bound here from the settings, or handed in at start
/// (by systemd or by appserver's supervisor), and served by the plan's handlers.
enum Listening {
    typealias Line = (service: String, text: String)

    /// The lines for sockets handed in (named by `identify`), one for each port.
    static func lines(_ inherited: [ListeningSocket]) -> [Line] {
        groups(inherited).compactMap(\.first).map { (SocketRow.named($0.name)?.service ?? "", "listening on \($0.address) (\($0.name), inherited)") }
    }

    /// Sockets by name and address, in order: the sockets of one port, one per worker.
    static func groups(_ sockets: [ListeningSocket]) -> [[ListeningSocket]] {
        var groups: [[ListeningSocket]] = []
        for socket in sockets {
            if let index = groups.firstIndex(where: { $0.first.map { $0.name == socket.name && $0.address == socket.address } == true }) {
                groups[index].append(socket)
            } else {
                groups.append([socket])
            }
        }
        return groups
    }

    /// Binds every port of `services` on every address, a socket for each of the `workers`
    /// of the process that serves it (see `ListeningSocket.group`), or ends the process with
    /// one line saying why; returns the sockets and their "listening on" lines, by service. A
    /// port of 0 becomes one free port shared by all addresses (and by TCP and UDP for DNS).
    static func bind(_ settings: Settings, services: [String], on addresses: [IPAddress]) -> (sockets: [ListeningSocket], lines: [Line]) {
        var sockets: [ListeningSocket] = [], lines: [Line] = []
        for group in SocketRow.ports(of: services, settings) {
            guard let first = group.first, let wanted = first.port(settings) else { continue }
            let number: UInt16
            do throws(SocketError) {
                let on = first.service == "admin" ? [settings.adminListen?.ip].compactMap { $0 } : addresses
                number = wanted != 0 ? wanted : try FreePort.common(on: on, datagrams: group.contains { $0.datagrams })
            } catch {
                fail(Startup.explain(error, flag: first.flag))
            }
            for ip in first.service == "admin" ? [settings.adminListen?.ip].compactMap({ $0 }) : addresses {
                for row in group {
                    do throws(SocketError) {
                        sockets += try ListeningSocket.group(name: row.name, datagrams: row.datagrams, address: SocketAddress(ip: ip, port: number),
                                                             count: settings.workers)
                    } catch {
                        fail(Startup.explain(error, flag: row.flag))
                    }
                }
                lines.append((first.service, "listening on \(SocketAddress(ip: ip, port: number)) (\(SocketRow.label(group)))"))
            }
        }
        return (sockets, lines)
    }

    /// Sockets handed in, each under its name in the table: one named otherwise (all the
    /// sockets of one systemd socket unit share its name) is known by its transport and
    /// port, which must be a service's port in the settings; and the services they are for,
    /// in the table's order, each among `settings.services`.
    static func identify(_ inherited: [ListeningSocket], _ settings: Settings) throws(ActivationError) -> (sockets: [ListeningSocket], services: [String]) {
        var sockets: [ListeningSocket] = [], wanted: Set<String> = []
        for socket in inherited {
            let byPort = SocketRow.all.first { $0.datagrams == socket.datagrams && $0.port(settings) == socket.address.port }
            guard let row = SocketRow.named(socket.name) ?? byPort else {
                throw ActivationError("inherited socket \(socket.address) is named '\(socket.name)', not one of "
                    + SocketRow.all.map(\.name).joined(separator: ", ") + " (FileDescriptorName=), and its port is no service's port")
            }
            guard settings.services.contains(row.service) else {
                throw ActivationError("inherited socket \(socket.address) (\(row.name)) is for \(row.service), which --services leaves out")
            }
            guard socket.datagrams == row.datagrams else {
                throw ActivationError("inherited socket \(socket.address) (\(row.name)) should be a \(row.datagrams ? "datagram" : "stream") socket")
            }
            sockets.append(socket.named(row.name))
            wanted.insert(row.service)
        }
        return (sockets, SocketRow.processes.filter(wanted.contains))
    }

    /// The flags that give the children the port numbers chosen for a port of 0, so that each
    /// knows the others' (plain HTTP redirects to HTTPS's) as the supervisor bound them.
    static func portsChosen(_ sockets: [ListeningSocket], _ settings: Settings) -> [String] {
        var flags: [String] = [], seen: Set<String> = []
        for row in SocketRow.all where row.port(settings) == 0 && !seen.contains(row.flag) {
            guard let socket = sockets.first(where: { $0.name == row.name }) else { continue }
            seen.insert(row.flag)
            // The admin listener's flag names its address too.
            let admin = row.service == "admin" ? settings.adminListen.map { SocketAddress(ip: $0.ip, port: socket.address.port) } : nil
            flags += [row.flag, admin?.description ?? "\(socket.address.port)"]
        }
        return flags
    }

    /// Serves each port's sockets in this process with the plan's handler for their name.
    static func serve(_ sockets: [ListeningSocket], plan: ServicePlan, registry: ListenerRegistry) {
        for group in groups(sockets) {
            guard let socket = group.first else { continue }
            switch plan.handlers[socket.name] {
            case .stream(let service):
                registry.adopt(group, service: service)
            case .datagrams(let handler):
                do throws(SocketError) { try registry.adopt(group, handler: handler) } catch { fail("\(error)") }
            case nil:
                fail("no service serves the socket named '\(socket.name)' (\(socket.address))")
            }
        }
    }
}
