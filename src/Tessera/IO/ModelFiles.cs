using System.Text.Json;

namespace Tessera.IO;

/// <summary>
/// A saved model as two files: the weights at a path and JSON metadata beside it (path + ".json"), each written atomically.
/// </summary>
public static class ModelFiles
{
    /// <summary>Where the metadata of the model at <paramref name="path"/> lives.</summary>
    public static string MetaPath(string path) => path + ".json";

    /// <summary>Writes the weights with <paramref name="writeWeights"/> (given a temporary path) and then the metadata.</summary>
    public static void Save<TMeta>(string path, Action<string> writeWeights, TMeta meta, JsonSerializerOptions json)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(writeWeights);
        AtomicFile.Write(path, writeWeights);
        AtomicFile.WriteAllText(MetaPath(path), JsonSerializer.Serialize(meta, json));
    }

    /// <summary>Checks that both files exist and reads the metadata (null for a JSON null); the caller checks its content.</summary>
    public static TMeta? ReadMeta<TMeta>(string path, JsonSerializerOptions json) where TMeta : class => ReadMeta<TMeta>(path, json, out _);

    /// <summary>As <see cref="ReadMeta{TMeta}(string, JsonSerializerOptions)"/>, also giving the JSON text (for fields of older formats).</summary>
    public static TMeta? ReadMeta<TMeta>(string path, JsonSerializerOptions json, out string text) where TMeta : class
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new TesseraException($"model file '{path}' not found");
        var metaPath = MetaPath(path);
        if (!File.Exists(metaPath)) throw new TesseraException($"model metadata '{metaPath}' not found (written next to the weights by Save)");
        text = File.ReadAllText(metaPath);
        try { return JsonSerializer.Deserialize<TMeta>(text, json); }
        catch (JsonException e) { throw new TesseraException($"model metadata '{metaPath}' is not valid JSON: {e.Message}"); }
    }
}
