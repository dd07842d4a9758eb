using System.Globalization;
using System.Reflection;

namespace PowerService.Runtime.Storage;

/// <summary>One versioned schema script, embedded by a storage provider from its Migrations/NNNN_name.sql files.</summary>
public sealed record SchemaMigration(int Version, string Name, string Sql)
{
    private const string Folder = ".Migrations.";

    /// <summary>The scripts embedded in the provider's assembly, in version order.</summary>
    public static IReadOnlyList<SchemaMigration> LoadEmbedded(Assembly assembly)
    {
        var migrations = new List<SchemaMigration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var folderAt = resource.IndexOf(Folder, StringComparison.Ordinal);
            if (folderAt < 0 || !resource.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }
            // MSBuild may prefix a name that starts with a digit with '_'.
            var name = resource[(folderAt + Folder.Length)..].TrimStart('_');
            var digits = name.TakeWhile(char.IsAsciiDigit).Count();
            if (digits == 0)
            {
                throw new InvalidOperationException($"Migration '{name}' must start with its version number, e.g. 0002_add_index.sql.");
            }
            migrations.Add(new SchemaMigration(int.Parse(name.AsSpan(0, digits), CultureInfo.InvariantCulture), name, Read(assembly, resource)));
        }
        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 1; i < migrations.Count; i++)
        {
            if (migrations[i].Version == migrations[i - 1].Version)
            {
                throw new InvalidOperationException($"Migrations '{migrations[i - 1].Name}' and '{migrations[i].Name}' share version {migrations[i].Version}.");
            }
        }
        return migrations;
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded migration '{resource}' cannot be read.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
