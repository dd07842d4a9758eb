using System.Globalization;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace PowerService.Api;

/// <summary>Kestrel's connection limits, unless configuration sets them (<c>Kestrel:Limits:MaxConcurrentConnections</c>,
/// <c>…:MaxConcurrentUpgradedConnections</c>): taken from the process's open-file limit, so that the silo refuses
/// connections before it runs out of descriptors. Without limits, connections past the descriptor limit made Kestrel
/// spin on failing accepts and the runtime, unable to open a file or start a thread, aborted the silo ("Out of
/// memory.") — every console, PDA and meter batch with it.</summary>
internal static class ConnectionLimits
{
    /// <summary>Descriptors kept for everything but client connections: the store's files and connections, the log,
    /// the runtime's own pipes and threads.</summary>
    private const int Reserve = 2_000;

    /// <summary>Most live (WebSocket) connections whatever the descriptor limit: about 40–150 KB each.</summary>
    private const int MostUpgraded = 100_000;

    private const int MostHttp = 20_000;

    public static IServiceCollection AddConnectionLimits(this IServiceCollection services) =>
        services.PostConfigure<KestrelServerOptions>(options =>
        {
            if (OpenFileLimit() is not { } files)
            {
                return;
            }
            var budget = Math.Max(files - Reserve, files / 2);
            options.Limits.MaxConcurrentUpgradedConnections ??= Math.Min(budget * 3 / 4, MostUpgraded);
            options.Limits.MaxConcurrentConnections ??= Math.Min(budget / 4, MostHttp);
        });

    /// <summary>The soft limit of open files from <c>/proc/self/limits</c> (null where there is none, or unlimited).</summary>
    internal static long? OpenFileLimit()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                    return long.TryParse(soft, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }
}
